"""S3 access that must not pay botocore's per-call cost: presigned GETs and upload forms."""
