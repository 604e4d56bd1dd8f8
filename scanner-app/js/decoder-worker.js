// Decodes camera frames off the main thread so that the page stays responsive.
import { decodeImageData } from "./decoder.js";

self.onmessage = async (event) => {
  const { id, imageData } = event.data;
  try {
    const texts = await decodeImageData(imageData);
    self.postMessage({ id, texts });
  } catch (err) {
    self.postMessage({ id, texts: [], error: String((err && err.message) || err) });
  }
};
