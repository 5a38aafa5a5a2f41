/**
 * SVG files are inlined as strings by the builder (and by jest's raw loader).
 */
declare module '*.svg' {
  const value: string;
  export default value;
}
