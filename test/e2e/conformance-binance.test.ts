/** The provider conformance suite (test/conformance) against the binance fake. */
import { runConformance } from "../conformance/cases";

runConformance("binance");
