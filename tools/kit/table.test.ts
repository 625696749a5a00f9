import { describe, expect, test } from "bun:test";
import { formatTable } from "./table.ts";

describe("formatTable", () => {
  const header = ["target", "req/s"];
  const rows = [
    ["ceiling", "138398"],
    ["storagesvc", "28430"],
  ];

  test("plain: names left, numbers right, a dashed rule under the header", () => {
    expect(formatTable(header, rows, { style: "plain" })).toBe(
      ["target       req/s", "----------  ------", "ceiling     138398", "storagesvc   28430"].join("\n"),
    );
  });

  test("markdown: the same columns as a Markdown table with alignment markers", () => {
    expect(formatTable(header, rows, { style: "markdown" })).toBe(
      ["| target     |  req/s |", "|:-----------|-------:|", "| ceiling    | 138398 |", "| storagesvc |  28430 |"].join("\n"),
    );
  });
});
