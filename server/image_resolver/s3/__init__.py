"""S3 signing: presigned GET URLs (hot path, own SigV4 signer) and POST upload forms."""
