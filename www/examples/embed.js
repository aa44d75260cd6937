// @ts-check
// gatito embedded in a page of its own, through the package alone: load the agent, caption a
// picture drawn here, then play a few hundred steps of Pong on a canvas.
import { GatitoError, load } from "../gatito/index.js";

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const picture = /** @type {HTMLCanvasElement} */ ($("picture"));
const STEPS = 300;

const pen = /** @type {CanvasRenderingContext2D} */ (picture.getContext("2d"));
pen.fillStyle = "white";
pen.fillRect(0, 0, picture.width, picture.height);
pen.fillStyle = "red";
pen.beginPath();
pen.arc(32, 32, 18, 0, 2 * Math.PI);
pen.fill();

try {
  const agent = await load({
    model: "../models/gatito-s/",
    progress: ({ file, loaded, total }) => ($("status").textContent = `Downloading ${file}: ${Math.round((100 * loaded) / total)}%`),
  });
  $("status").textContent = `Describing the picture (${agent.backend.active})…`;
  for await (const text of agent.stream(picture)) $("caption").textContent = text;
  $("status").textContent = "Playing Pong.";
  const episode = await agent.play("pong", { canvas: /** @type {HTMLCanvasElement} */ ($("world")), speed: 60 });
  episode.on("step", ({ report }) => {
    $("steps").textContent = `Step ${report.step}, score ${report.score}`;
    if (report.step >= STEPS || report.done) episode.stop();
  });
} catch (error) {
  $("status").textContent = error instanceof GatitoError ? `gatito failed (${error.code}): ${error.message}` : String(error);
}
