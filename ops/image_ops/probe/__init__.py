"""`image-ops probe`: load images the way a browser meets them, per POP and origin."""
