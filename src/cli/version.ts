/** weft's version, as `weft --version` prints it and `weft mcp` names its server. */
export const WEFT_VERSION = '0.1.0';
