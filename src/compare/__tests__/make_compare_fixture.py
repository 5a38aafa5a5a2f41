"""Write compare-answer.json, the compare spec's fixture, with nbdime's own differ.

Two runs of a small report notebook: a parameter changed, an output changed,
a cell added. Run: python src/compare/__tests__/make_compare_fixture.py >
src/compare/__tests__/compare-answer.json
"""

import json

import nbdime
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output


def run(region, total, extra):
    cells = [
        new_markdown_cell("# Sales report"),
        new_code_cell("region = 'eu'\ndays = 7", metadata={"tags": ["parameters"]}),
        new_code_cell(f"region = {region!r}\ndays = 7", metadata={"tags": ["injected-parameters"]}),
        new_code_cell(
            "total = sum(range(days))\nprint(region, total)",
            outputs=[new_output("stream", name="stdout", text=f"{region} {total}\n")],
            execution_count=3,
        ),
    ]
    if extra:
        cells.append(
            new_code_cell(
                "print('done')",
                outputs=[new_output("stream", name="stdout", text="done\n")],
                execution_count=4,
            )
        )
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i}"
    # As nbformat reads it (sources whole strings), which is what nbdime diffs.
    return json.loads(json.dumps(nbformat.reads(nbformat.writes(nb), as_version=4)))


base, remote = run("eu", 21, False), run("us", 21 * 2, True)
diff = nbdime.diff_notebooks(base, remote)
answer = {
    "base": base,
    "diff": json.loads(json.dumps(diff)),
    "parameters": {
        "base": {"region": "eu", "days": 7},
        "remote": {"region": "us", "days": 7, "dry_run": True},
    },
    "manifests": {
        "base": {
            "run_id": "manual__2026-11-30T09:00:00+00:00",
            "status": "success",
            "start": "2026-11-30T09:00:01+00:00",
            "end": "2026-11-30T09:00:31+00:00",
            "duration_seconds": 30.2,
            "trigger": "server",
            "try_number": 1,
            "notebook": {"uri": "s3://jobs/alice/snapshots/aaa.ipynb", "sha256": "a" * 64},
            "error": None,
            "lineage": {
                "reads": [
                    {
                        "bucket": "demo",
                        "key": "sales/2026.parquet",
                        "etag": "e1",
                        "version_id": None,
                        "bytes": 1024,
                    }
                ],
                "writes": [],
                "truncated": False,
            },
        },
        "remote": {
            "run_id": "scheduled__2026-11-30T10:00:00+00:00",
            "status": "failed",
            "start": "2026-11-30T10:00:01+00:00",
            "end": "2026-11-30T10:00:11+00:00",
            "duration_seconds": 10,
            "trigger": "airflow",
            "try_number": 2,
            "notebook": {"uri": "s3://jobs/alice/snapshots/aaa.ipynb", "sha256": "a" * 64},
            "error": {"type": "KeyError", "message": "'us'", "cell_index": 3, "execution_count": 3},
            "lineage": {
                "reads": [
                    {
                        "bucket": "demo",
                        "key": "sales/2026.parquet",
                        "etag": "e2",
                        "version_id": None,
                        "bytes": 2048,
                    }
                ],
                "writes": [],
                "truncated": False,
            },
        },
    },
}
print(json.dumps(answer, indent=1, sort_keys=True))
