// The camera, the continuous decoding loop and the photo fallback.

const FRAME_INTERVAL_MS = 180;
const MAX_FRAME_SIDE = 960;
const MAX_PHOTO_SIDE = 1600;

// ------------------------------------------------------------------------------------ decoding

let worker = null;
let workerFailed = false;
let nextId = 1;
const pending = new Map();

function getWorker() {
  if (worker || workerFailed) return worker;
  try {
    worker = new Worker(new URL("./decoder-worker.js", import.meta.url), { type: "module" });
    worker.onmessage = (event) => {
      const { id, texts, error } = event.data;
      const entry = pending.get(id);
      if (!entry) return;
      pending.delete(id);
      if (error) entry.reject(new Error(error));
      else entry.resolve(texts);
    };
    worker.onerror = () => {
      workerFailed = true;
      worker = null;
      for (const entry of pending.values()) entry.reject(new Error("decoder worker failed"));
      pending.clear();
    };
  } catch {
    workerFailed = true;
    worker = null;
  }
  return worker;
}

/** Decode an ImageData in the worker (or here, if module workers are unavailable). */
export async function decode(imageData) {
  const w = getWorker();
  if (w) {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      w.postMessage({ id, imageData }, [imageData.data.buffer]);
    });
  }
  const { decodeImageData } = await import("./decoder.js");
  return decodeImageData(imageData);
}

function toImageData(source, width, height, maxSide) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, w, h);
  return ctx.getImageData(0, 0, w, h);
}

/** Texts of the codes in a photo file; tries a downscaled copy first, then full size. */
export async function decodePhoto(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    const err = new Error("unreadable image");
    err.code = "unreadable_image";
    throw err;
  }
  try {
    const sides = [MAX_PHOTO_SIDE];
    if (Math.max(bitmap.width, bitmap.height) > MAX_PHOTO_SIDE) sides.push(4096);
    for (const side of sides) {
      const texts = await decode(toImageData(bitmap, bitmap.width, bitmap.height, side));
      if (texts.length) return texts;
    }
    return [];
  } finally {
    bitmap.close?.();
  }
}

// ------------------------------------------------------------------------------------ camera

export class CameraError extends Error {
  constructor(code, cause) {
    super(code);
    this.code = code; // insecure, unsupported, denied, not_found, busy, failed
    this.cause = cause;
  }
}

function cameraErrorCode(err) {
  switch (err && err.name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
    case "SecurityError":
      return "denied";
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return "not_found";
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return "busy";
    default:
      return "failed";
  }
}

export class CameraScanner {
  /**
   * @param {HTMLVideoElement} video
   * @param {(texts: string[]) => void} onCodes called with the texts found in a frame
   */
  constructor(video, onCodes) {
    this.video = video;
    this.onCodes = onCodes;
    this.stream = null;
    this.timer = null;
    this.busy = false;
    this.running = false;
  }

  static available() {
    return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  async start() {
    if (this.running) return;
    if (!window.isSecureContext) throw new CameraError("insecure");
    if (!CameraScanner.available()) throw new CameraError("unsupported");
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: {
          facingMode: { ideal: "environment" },
          width: { ideal: 1280 },
          height: { ideal: 720 },
        },
      });
    } catch (err) {
      throw new CameraError(cameraErrorCode(err), err);
    }
    this.video.srcObject = this.stream;
    this.video.setAttribute("playsinline", "");
    this.video.muted = true;
    try {
      await this.video.play();
    } catch {
      /* autoplay refusals still render frames once the stream is attached */
    }
    this.running = true;
    this.schedule();
  }

  schedule() {
    if (!this.running) return;
    this.timer = setTimeout(() => this.tick(), FRAME_INTERVAL_MS);
  }

  async tick() {
    if (!this.running) return;
    const v = this.video;
    if (!this.busy && v.readyState >= 2 && v.videoWidth > 0) {
      this.busy = true;
      try {
        const texts = await decode(toImageData(v, v.videoWidth, v.videoHeight, MAX_FRAME_SIDE));
        if (this.running && texts.length) this.onCodes(texts);
      } catch {
        /* a bad frame: try the next one */
      } finally {
        this.busy = false;
      }
    }
    this.schedule();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    if (this.stream) {
      for (const track of this.stream.getTracks()) track.stop();
    }
    this.stream = null;
    this.video.srcObject = null;
  }
}
