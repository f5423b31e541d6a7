/** The provider conformance suite (test/conformance) against the polygon-delayed fake. */
import { runConformance } from "../conformance/cases";

runConformance("polygon-delayed");
