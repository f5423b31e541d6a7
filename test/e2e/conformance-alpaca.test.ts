/** The provider conformance suite (test/conformance) against the alpaca fake. */
import { runConformance } from "../conformance/cases";

runConformance("alpaca");
