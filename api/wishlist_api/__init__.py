"""Wishlist HTTP API: stores items and asks image-resolver (gRPC) for their image URLs."""
