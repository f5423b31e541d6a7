/** The page's element of `selector` (the page's HTML has every one). */
export const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
