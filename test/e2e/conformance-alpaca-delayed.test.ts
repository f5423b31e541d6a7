/** The provider conformance suite (test/conformance) against the alpaca-delayed fake. */
import { runConformance } from "../conformance/cases";

runConformance("alpaca-delayed");
