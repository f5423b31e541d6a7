/** The provider conformance suite (test/conformance) against the coinbase fake. */
import { runConformance } from "../conformance/cases";

runConformance("coinbase");
