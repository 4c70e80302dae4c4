"""image-resolver: decides which URL a browser loads for each wishlist image."""
