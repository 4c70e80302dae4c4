"use strict";
// When an image fails, learn why and do what the story asks: object missing (404/403) ->
// placeholder; CDN unreachable or 503 -> the same image from the S3 fallback; other CDN 5xx
// -> "Image temporarily unavailable". The CDN's CORS headers let a HEAD read its status.

function showMessage(img) {
  img.dataset.state = "message";
  img.hidden = true;
  img.parentElement.querySelector(".image-message").hidden = false;
}

function swap(img, state, url) {
  img.dataset.state = state;
  img.src = url;
}

async function cdnStatus(url) {
  try {
    const resp = await fetch(url, { method: "HEAD", mode: "cors", cache: "no-store", credentials: "omit" });
    return resp.status;
  } catch (err) {
    return 0; // unreachable (or CORS refused): treat as down
  }
}

async function onImageError(img) {
  const state = img.dataset.state || "primary";
  // "probing": an image that failed while this script started can report twice (the
  // complete-and-broken check below, then its queued error event): probe it once.
  if (state === "placeholder" || state === "message" || state === "probing") return;
  if (state === "fallback" || !img.dataset.fallback) {
    // S3 copy failed too, or an S3-origin image (a presigned GET can't be probed): placeholder.
    swap(img, "placeholder", img.dataset.placeholder);
    return;
  }
  img.dataset.state = "probing";
  const status = await cdnStatus(img.src);
  img.dataset.cdnStatus = String(status);
  if (status === 404 || status === 403) swap(img, "placeholder", img.dataset.placeholder);
  else if (status === 0 || status === 503) swap(img, "fallback", img.dataset.fallback);
  else if (status >= 500) showMessage(img);
  else swap(img, "fallback", img.dataset.fallback);
}

for (const img of document.querySelectorAll("img[data-image]")) {
  img.addEventListener("error", () => onImageError(img));
  img.addEventListener("load", () => { img.dataset.loaded = img.dataset.state || "primary"; });
  if (img.complete) {
    if (img.naturalWidth === 0) onImageError(img);
    else img.dataset.loaded = img.dataset.state || "primary";
  }
}
