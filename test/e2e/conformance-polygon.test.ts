/** The provider conformance suite (test/conformance) against the polygon fake. */
import { runConformance } from "../conformance/cases";

runConformance("polygon");
