/** Vite asset imports: the URL of the file (a data: URL when inlined at build time). */
declare module '*?url' {
  const url: string;
  export default url;
}
