"""Local edge (Varnish + hitch + a signing origin) standing in for CloudFront."""
