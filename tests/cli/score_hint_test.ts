import { scoreCommandLine, shellWord, shownPath, taskPrefix } from "../../lib/cli/score_hint.ts";
import { assertEquals } from "../assert.ts";

Deno.test("taskPrefix: npx's cache in the Deno path means `npx -y deno@<version> task`, else `deno task`", () => {
  assertEquals(taskPrefix("/home/u/.npm/_npx/6a9f1c2b/node_modules/@deno/linux-x64/deno", "2.9.6"), "npx -y deno@2.9.6 task");
  assertEquals(taskPrefix("C:\\Users\\u\\AppData\\Local\\npm-cache\\_npx\\6a9f\\node_modules\\deno\\deno.exe", "2.9.6"), "npx -y deno@2.9.6 task");
  assertEquals(taskPrefix("/usr/bin/deno", "2.9.6"), "deno task");
  assertEquals(taskPrefix("/home/u/.deno/bin/deno", "2.9.6"), "deno task");
});

Deno.test("scoreCommandLine: depth models take the point map alone, RGB+3D both; paths relative inside the project, quoted when needed", () => {
  const cwd = "/p";
  const hint = { model: "/p/results/demo/20260101T000000Z/depth", image: "/p/data/generated/puck/test/hole/rgb/000.png", depth: "/p/data/generated/puck/test/hole/xyz/000.tiff" };
  assertEquals(scoreCommandLine({ ...hint, mode: "depth" }, "deno task", cwd), "deno task ast score --model results/demo/20260101T000000Z/depth --depth data/generated/puck/test/hole/xyz/000.tiff");
  assertEquals(
    scoreCommandLine({ ...hint, model: "/p/results/demo/20260101T000000Z/combi", mode: "combi" }, "npx -y deno@2.9.6 task", cwd),
    "npx -y deno@2.9.6 task ast score --model results/demo/20260101T000000Z/combi --image data/generated/puck/test/hole/rgb/000.png --depth data/generated/puck/test/hole/xyz/000.tiff",
  );
  assertEquals(scoreCommandLine({ model: "/elsewhere/my model", mode: "rgb", image: "/p/x.png" }, "deno task", cwd), "deno task ast score --model '/elsewhere/my model' --image x.png");
  assertEquals([shownPath("/p", "/p"), shownPath("/q/a", "/p"), shellWord("it's")], ["/p", "/q/a", `'it'\\''s'`]);
});
