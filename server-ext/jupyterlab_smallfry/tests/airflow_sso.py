"""Log users into the team Airflow through its OIDC provider, as a browser would."""

from __future__ import annotations

from urllib.parse import urljoin

import requests

from ..platform.airflow_stack import AirflowStack


def sso_login(stack: AirflowStack, idp, sub: str, groups=()) -> requests.Session:
    """Log ``sub`` in as a browser would: Airflow → IdP form → back to Airflow."""
    idp.set_user(sub, preferred_username=sub, email=f"{sub}@example.com", groups=list(groups))
    browser = requests.Session()
    start = browser.get(stack.login_url(), allow_redirects=False, timeout=30)
    assert start.status_code in (302, 303, 307), start.text[:500]
    form = browser.post(start.headers["Location"], data={"sub": sub}, allow_redirects=False)
    assert form.status_code in (302, 303), form.text[:500]
    back = browser.get(urljoin(stack.url, form.headers["Location"]), allow_redirects=False)
    assert back.status_code in (302, 303), back.text[:500]
    return browser


def bearer(browser: requests.Session) -> dict:
    """The Airflow API JWT that the login left in the ``_token`` cookie."""
    return {"Authorization": f"Bearer {browser.cookies['_token']}"}
