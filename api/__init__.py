"""The SilkTrace HTTP service: enterprise writes, QR issuing and the GS1 Digital Link resolver."""
