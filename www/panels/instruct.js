// Instruct: the grid room with a mission typed or picked by the visitor.

import { LivePanel, formatScore } from "../live.js";
import { $, drawDistribution, element, showError } from "../view.js";

const HELD_OUT = "held out: training never pairs this verb with this object, so solving it means composing what was learned";

export class InstructPanel extends LivePanel {
  constructor(app) {
    super(app, "instruct");
    this.runs = 0;
    $("mission-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.run($("mission-input").value);
    });
  }

  async offer() {
    const missions = await this.app.agent.missions({ count: 9, seed: 0 });
    $("mission-examples").replaceChildren(...missions.map((m) => {
      const item = element("li");
      const button = element("button", "chip-button secondary", m.text);
      button.type = "button";
      if (m.held_out) {
        button.append(element("small", "held-out", " held out"));
        button.title = HELD_OUT;
      }
      button.addEventListener("click", () => {
        $("mission-input").value = m.text;
        this.run(m.text);
      });
      item.append(button);
      return item;
    }));
    $("mission-input").value ||= missions[0]?.text ?? "";
  }

  /// Furnishes a new room for the mission and lets the agent carry it out.
  async run(text) {
    showError("mission-error", null);
    try {
      await this.start({ mission: text }, this.runs++);
    } catch (error) {
      this.error(error);
    }
  }

  error(error) {
    showError("mission-error", error);
  }

  started(info) {
    this.labels = info.spec.action.labels;
    const mission = $("instruct-mission");
    mission.replaceChildren(element("strong", "", "Mission: "), info.mission.text);
    if (info.mission.held_out) mission.append(element("small", "held-out", ` (${HELD_OUT})`));
    $("instruct-outcome").textContent = "";
    drawDistribution($("instruct-distribution"), this.labels, null);
  }

  drawn({ report }) {
    drawDistribution($("instruct-distribution"), this.labels, report);
    const outcome = $("instruct-outcome");
    if (!report?.done) return;
    const success = report.score > 0;
    outcome.className = `outcome ${success ? "success" : "failure"}`;
    outcome.textContent = success
      ? `Mission accomplished in ${report.step} steps (score ${formatScore(report.score)}).`
      : `Out of steps after ${report.step}: the mission was not accomplished.`;
  }
}
