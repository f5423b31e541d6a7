import { EdgeTicker } from "./element";

/**
 * `<edge-ticker symbols="AAPL,MSFT" theme="light|dark" layout="tape|card|table" throttle="1000"
 * token-url="/edge-ticker-token">`, loaded with `<script src="https://HOST/widget.js" async>`.
 */
if (!customElements.get("edge-ticker")) customElements.define("edge-ticker", EdgeTicker);
