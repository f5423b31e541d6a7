/**
 * What the simulator knows, with plausible opening prices: the large US stocks and ETFs,
 * the main US indices, major crypto pairs and FX crosses (Yahoo-style names, as the page
 * and the providers' adapters use them). Any other symbol is unknown to it, as it would be
 * to a real provider, so a typo never looks like a quote; publishers add their own.
 */
export const SIM_START_PRICES: Readonly<Record<string, number>> = {
  // US large caps
  AAPL: 228.5, MSFT: 415.2, NVDA: 124.6, GOOGL: 172.4, GOOG: 173.9, AMZN: 186.3, META: 560.1,
  "BRK.B": 452.8, "BRK.A": 679_500, AVGO: 168.3, TSLA: 248.9, LLY: 905.4, JPM: 214.2, V: 279.3,
  UNH: 590.7, XOM: 118.4, MA: 495.6, JNJ: 161.2, PG: 169.8, HD: 392.5, COST: 890.1, ABBV: 195.3,
  WMT: 80.6, NFLX: 690.4, MRK: 112.9, KO: 69.8, BAC: 39.6, CVX: 148.2, ORCL: 171.5, AMD: 158.2,
  PEP: 168.4, CRM: 272.9, ADBE: 512.3, TMO: 615.7, LIN: 468.2, ACN: 354.1, MCD: 295.6, CSCO: 50.8,
  ABT: 114.3, WFC: 59.7, DHR: 271.4, IBM: 214.7, GE: 178.6, QCOM: 168.9, TXN: 198.4, INTU: 640.2,
  AMGN: 330.5, VZ: 43.1, DIS: 96.1, PFE: 29.4, CAT: 365.8, NOW: 880.3, PM: 123.5, GS: 505.6,
  UBER: 74.9, ISRG: 489.7, T: 22.1, SPGI: 512.8, RTX: 121.4, NEE: 78.3, UNP: 245.7, CMCSA: 39.2,
  LOW: 258.3, HON: 209.6, INTC: 22.3, AXP: 268.1, BKNG: 4_210, BA: 158.4, PLTR: 41.7, NKE: 83.4,
  MS: 104.6, SBUX: 96.2, PYPL: 74.3, C: 63.8, DE: 398.2, LMT: 560.4, MU: 104.8, ADP: 289.7,
  GILD: 88.6, MDT: 88.1, BLK: 945.2, SCHW: 66.3, ABNB: 128.5, SNOW: 121.4, NET: 96.7, PANW: 360.2,
  CRWD: 285.6, COIN: 205.4, F: 10.7, GM: 48.3, SHOP: 79.6,
  // ETFs
  SPY: 568.4, QQQ: 487.9, IWM: 220.1, DIA: 421.3, VTI: 282.5, VOO: 522.6, IVV: 571.2, VEA: 52.4,
  VWO: 47.1, EFA: 82.3, EEM: 45.6, AGG: 100.2, BND: 74.8, TLT: 97.3, LQD: 110.5, HYG: 79.4,
  GLD: 245.1, SLV: 28.7, USO: 75.2, XLK: 228.4, XLF: 46.2, XLE: 90.6, XLV: 155.3, XLY: 195.7,
  XLI: 134.2, XLP: 82.1, XLU: 79.8, ARKK: 48.6, SMH: 245.3, SOXX: 225.6, VNQ: 95.3, SCHD: 28.4,
  // Indices
  "^GSPC": 5_702.5, "^DJI": 42_063.4, "^IXIC": 17_948.3, "^NDX": 19_852.2, "^RUT": 2_230.1, "^VIX": 16.2,
  // Crypto
  "BTC-USD": 63_250, "ETH-USD": 2_620, "SOL-USD": 152.3, "XRP-USD": 0.5812, "BNB-USD": 575.4,
  "ADA-USD": 0.3562, "DOGE-USD": 0.1098, "AVAX-USD": 27.41, "DOT-USD": 4.352, "LINK-USD": 11.62,
  "LTC-USD": 67.2, "BCH-USD": 335.8, "TRX-USD": 0.1563, "XLM-USD": 0.0941, "ATOM-USD": 4.613,
  "UNI-USD": 7.104, "BTC-EUR": 57_100, "ETH-EUR": 2_365, "BTC-USDT": 63_240, "ETH-USDT": 2_619,
  "ETH-BTC": 0.04142,
  // FX
  "EURUSD=X": 1.1142, "GBPUSD=X": 1.3291, "USDJPY=X": 142.7, "AUDUSD=X": 0.6712, "USDCAD=X": 1.3565,
  "USDCHF=X": 0.8468, "NZDUSD=X": 0.6184, "EURGBP=X": 0.8383, "EURJPY=X": 159.02, "GBPJPY=X": 189.64,
  "EURCHF=X": 0.9435, "AUDJPY=X": 95.81, "EURAUD=X": 1.6602, "EURCAD=X": 1.5113, "USDMXN=X": 19.61,
  "USDCNY=X": 7.052, "USDINR=X": 83.91, "USDSEK=X": 10.31, "USDNOK=X": 10.62, "USDSGD=X": 1.2984,
  "USDHKD=X": 7.791, "USDZAR=X": 17.62,
};
