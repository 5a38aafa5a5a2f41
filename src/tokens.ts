/**
 * Public tokens and identifiers of Small Fry.
 */

/**
 * Command ids.
 */
export namespace CommandIDs {
  /** Copy the `s3://` URI of the selected S3 items. */
  export const copyS3Uri = 'smallfry:copy-s3-uri';
  /** Copy the selected S3 items into the local file browser's folder. */
  export const copyToLocal = 'smallfry:copy-to-local';
  /** Copy the selected local items into the S3 browser's folder. */
  export const copyToS3 = 'smallfry:copy-to-s3';
  /** Open the AWS credentials details panel (S3 errors offer it). */
  export const showCredentials = 'smallfry:show-credentials';
}
