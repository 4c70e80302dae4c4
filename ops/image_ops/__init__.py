"""image-ops: the operator toolkit for image-resolver (rollout, gates, logs, probe, purge).

It reaches the resolver only through the contract (`wishlist_images_client`).
"""
