/** The provider conformance suite (test/conformance) against the finnhub fake. */
import { runConformance } from "../conformance/cases";

runConformance("finnhub");
