// QR decoding with zxing-wasm (reader build). The .wasm is served next to the module under
// vendor/, never from a CDN: the app must work on a closed network.

import { prepareZXingModule, readBarcodes } from "../vendor/zxing-wasm/es/reader/index.js";

const WASM_URL = new URL("../vendor/zxing-wasm/reader/zxing_reader.wasm", import.meta.url).href;

prepareZXingModule({
  overrides: {
    locateFile: (path, prefix) => (path.endsWith(".wasm") ? WASM_URL : prefix + path),
  },
});

const OPTIONS = {
  formats: ["QRCode", "MicroQRCode", "DataMatrix"],
  tryHarder: true,
  tryRotate: true,
  tryInvert: true,
  maxNumberOfSymbols: 4,
};

/** Texts of the valid codes found in an ImageData, best first. */
export async function decodeImageData(imageData) {
  const results = await readBarcodes(imageData, OPTIONS);
  return results.filter((r) => r.isValid && r.text).map((r) => r.text);
}
