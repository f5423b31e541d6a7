import { connect } from "../../../client/src/client";
import { Details } from "./details";
import { linkPanel, savedTransport, transportOptions } from "./link-panel";
import { Watchlist } from "./watchlist";

/** The ticker page: one client of the host it is served from, a watchlist, the selected symbol's chart, the connection panel. */
const picked = savedTransport();
// The compact form: a phone watching the page downloads a fifth of the bytes (docs/protocol.md).
const client = connect({ url: location.origin, ...transportOptions(picked) });
const details = new Details(client, (symbol) => watchlist.latest(symbol));
const watchlist = new Watchlist(
  client,
  (symbol) => void details.select(symbol),
  (tick) => details.tick(tick),
);
watchlist.select(watchlist.first);
const renderLink = linkPanel(client, picked, () => watchlist.lastTickAt);
setInterval(() => {
  renderLink();
  watchlist.refresh();
}, 1000);
