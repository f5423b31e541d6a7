/** Bundled browser scripts imported as text (wrangler.toml [[rules]] type "Text"). */
declare module "*.min.js" {
  const text: string;
  export default text;
}
