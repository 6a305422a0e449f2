#include "suite/html_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "suite/metrics.h"
#include "suite/number_format.h"

namespace anvil::suite {
namespace {

std::string Seconds(double s) {
  if (s < 120) return fmt::format("{:.1f} s", s);
  if (s < 7200) return fmt::format("{:.1f} min", s / 60);
  return fmt::format("{:.2f} h", s / 3600);
}

// Colour of a speedup: red below 1x, grey around it, green above.
const char* SpeedupColour(double s) {
  if (s < 0.8) return "#c0392b";
  if (s < 1.0) return "#e67e22";
  if (s < 1.5) return "#7f8c8d";
  return "#27ae60";
}

const char* StatusColour(TaskStatus s) {
  switch (s) {
    case TaskStatus::kCorrect: return "#27ae60";
    case TaskStatus::kIncorrect: return "#c0392b";
    case TaskStatus::kBuildFailed: return "#e67e22";
    case TaskStatus::kNoKernel: return "#7f8c8d";
    case TaskStatus::kError: return "#8e44ad";
    case TaskStatus::kPending: return "#95a5a6";
  }
  return "#95a5a6";
}

// Histogram of per-task speedups over eager in log2 bins: <1/4, [1/4,1/2), ... [4,8), >=8.
std::string SpeedupHistogram(const std::vector<double>& speedups) {
  const std::vector<std::string> labels = {"<0.25x", "0.25–0.5x", "0.5–1x", "1–2x", "2–4x", "4–8x", "≥8x"};
  std::vector<int> counts(labels.size(), 0);
  for (double s : speedups) {
    const int bin = std::clamp(static_cast<int>(std::floor(std::log2(s))) + 3, 0, static_cast<int>(labels.size()) - 1);
    counts[bin]++;
  }
  const int top = std::max(1, *std::max_element(counts.begin(), counts.end()));
  const int w = 640, h = 240, left = 40, bottom = 40, bar = (w - left - 20) / static_cast<int>(labels.size());
  std::ostringstream o;
  o << fmt::format(R"(<svg id="chart-histogram" role="img" aria-label="speedup distribution" width="{}" height="{}" viewBox="0 0 {} {}">)", w, h, w, h);
  o << fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#333"/>)", left, h - bottom, w - 10, h - bottom);
  for (size_t i = 0; i < labels.size(); ++i) {
    const double bh = (h - bottom - 20) * static_cast<double>(counts[i]) / top;
    const int x = left + static_cast<int>(i) * bar + 6;
    const char* colour = i < 3 ? "#e67e22" : "#27ae60";
    o << fmt::format(R"(<rect x="{}" y="{:.1f}" width="{}" height="{:.1f}" fill="{}"><title>{}: {} tasks</title></rect>)", x,
                     h - bottom - bh, bar - 12, bh, colour, labels[i], counts[i]);
    o << fmt::format(R"(<text x="{}" y="{:.1f}" font-size="12" text-anchor="middle">{}</text>)", x + (bar - 12) / 2,
                     h - bottom - bh - 4, counts[i]);
    o << fmt::format(R"(<text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text>)", x + (bar - 12) / 2,
                     h - bottom + 16, labels[i]);
  }
  o << fmt::format(R"(<text x="{}" y="{}" font-size="12" text-anchor="middle">speedup over PyTorch eager (tasks with a correct, timed kernel)</text>)",
                   w / 2, h - 6);
  o << "</svg>";
  return o.str();
}

// One horizontal bar per op, log2 scale centred on 1x, sorted fastest first.
std::string PerOpBars(std::vector<std::pair<std::string, double>> ops) {
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  const int row = 18, left = 200, w = 760, plot = w - left - 70;
  const int h = 40 + row * static_cast<int>(ops.size());
  double span = 1;  // log2 range shown on each side of 1x
  for (const auto& [op, s] : ops) span = std::max(span, std::ceil(std::fabs(std::log2(s))));
  span = std::min(span, 6.0);
  auto x_of = [&](double s) { return left + plot / 2.0 + (plot / 2.0) * std::clamp(std::log2(s), -span, span) / span; };
  std::ostringstream o;
  o << fmt::format(R"(<svg id="chart-ops" role="img" aria-label="speedup per op" width="{}" height="{}" viewBox="0 0 {} {}">)", w, h, w, h);
  const double x1 = x_of(1);
  for (size_t i = 0; i < ops.size(); ++i) {
    const auto& [op, s] = ops[i];
    const int y = 10 + static_cast<int>(i) * row;
    const double x = x_of(s);
    o << fmt::format(R"(<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>)", left - 6, y + 12, HtmlEscape(op));
    o << fmt::format(R"(<rect x="{:.1f}" y="{}" width="{:.1f}" height="{}" fill="{}"><title>{}: {:.2f}x</title></rect>)",
                     std::min(x, x1), y + 2, std::max(1.0, std::fabs(x - x1)), row - 5, SpeedupColour(s), HtmlEscape(op), s);
    o << fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11">{:.2f}x</text>)", std::max(x, x1) + 4, y + 12, s);
  }
  o << fmt::format(R"(<line x1="{:.1f}" y1="4" x2="{:.1f}" y2="{}" stroke="#333" stroke-dasharray="3,3"/>)", x1, x1, h - 24);
  o << fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">1x (eager)</text>)", x1, h - 10);
  o << "</svg>";
  return o.str();
}

// Fraction of speed of light per timed case against the bytes the case must
// move (log scale): memory-bound kernels should sit near 100% for large sizes.
std::string RooflineScatter(const SuiteRun& run) {
  struct Point {
    double bytes, fraction;
    std::string label;
  };
  std::vector<Point> points;
  for (const TaskResult& t : run.tasks) {
    if (t.status != TaskStatus::kCorrect) continue;
    for (const CaseTiming& c : t.timings) {
      auto f = c.SolFraction();
      if (!f || !c.min_bytes || *c.min_bytes <= 0) continue;
      points.push_back({*c.min_bytes, *f, t.op + " " + c.label});
    }
  }
  if (points.empty())
    return R"(<p class="note" id="chart-roofline">No case has a speed-of-light time (CPU runs and runs without device ceilings have none).</p>)";
  double lo = 1e300, hi = 0;
  for (const Point& p : points) lo = std::min(lo, p.bytes), hi = std::max(hi, p.bytes);
  const double l0 = std::floor(std::log10(lo)), l1 = std::max(l0 + 1, std::ceil(std::log10(hi)));
  const int w = 640, h = 300, left = 50, bottom = 40, top = 10;
  auto x_of = [&](double b) { return left + (w - left - 20) * (std::log10(b) - l0) / (l1 - l0); };
  auto y_of = [&](double f) { return top + (h - top - bottom) * (1 - std::min(f, 1.2) / 1.2); };
  std::ostringstream o;
  o << fmt::format(R"(<svg id="chart-roofline" role="img" aria-label="fraction of speed of light" width="{}" height="{}" viewBox="0 0 {} {}">)", w, h, w, h);
  for (double f : {0.25, 0.5, 0.75, 1.0}) {
    o << fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="{}" stroke-dasharray="2,3"/>)", left, y_of(f),
                     w - 20, y_of(f), f == 1.0 ? "#333" : "#ccc");
    o << fmt::format(R"(<text x="{}" y="{:.1f}" font-size="11" text-anchor="end">{:.0f}%</text>)", left - 4, y_of(f) + 4, 100 * f);
  }
  for (double e = l0; e <= l1; e += 1)
    o << fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">1e{:.0f}</text>)", x_of(std::pow(10, e)),
                     h - bottom + 16, e);
  for (const Point& p : points)
    o << fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="3.5" fill="{}" fill-opacity="0.7"><title>{}: {:.0f}% of speed of light</title></circle>)",
                     x_of(p.bytes), y_of(p.fraction), p.fraction >= 0.85 ? "#27ae60" : "#2980b9", HtmlEscape(p.label), 100 * p.fraction);
  o << fmt::format(R"(<text x="{}" y="{}" font-size="12" text-anchor="middle">bytes the case must move (log scale); y: speed-of-light time / kernel time</text>)",
                   w / 2, h - 6);
  o << "</svg>";
  return o.str();
}

std::string FastTable(const SuiteMetrics& m) {
  std::ostringstream o;
  o << "<table class=\"metrics\" id=\"fast-p\"><tr><th>baseline</th>";
  for (double p : FastThresholds()) o << "<th>" << FastName(p) << "</th>";
  o << "<th>geomean speedup</th><th>timed tasks</th></tr>";
  for (const auto& [name, b] : {std::pair<const char*, const BaselineMetrics&>{"PyTorch eager", m.eager},
                                std::pair<const char*, const BaselineMetrics&>{"torch.compile", m.compiled}}) {
    o << "<tr><td>" << name << "</td>";
    for (double p : FastThresholds()) o << "<td>" << FormatPercent(b.fast_p.at(p)) << "</td>";
    o << "<td>" << FormatSpeedup(b.geomean_speedup) << "</td><td>" << b.timed_tasks << "</td></tr>";
  }
  o << "</table>";
  return o.str();
}

std::string DtypeTable(const SuiteRun& run) {
  std::ostringstream o;
  o << "<table class=\"metrics\" id=\"by-dtype\"><tr><th>dtype</th><th>tasks</th><th>correct</th>"
       "<th>fast_1 (eager)</th><th>geomean vs eager</th><th>geomean vs torch.compile</th></tr>";
  for (const auto& [dtype, m] : MetricsByDtype(run.tasks))
    o << fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", HtmlEscape(dtype), m.tasks,
                     FormatPercent(m.correctness_rate), FormatPercent(m.eager.fast_p.at(1.0)), FormatSpeedup(m.eager.geomean_speedup),
                     FormatSpeedup(m.compiled.geomean_speedup));
  o << "</table>";
  return o.str();
}

std::string TaskTable(const SuiteRun& run) {
  std::ostringstream o;
  o << "<table id=\"tasks\" class=\"sortable\"><thead><tr>"
       "<th data-type=\"text\">op</th><th data-type=\"text\">status</th><th data-type=\"text\">verdict</th>"
       "<th data-type=\"num\">vs eager</th><th data-type=\"num\">vs torch.compile</th>"
       "<th data-type=\"num\">speed of light</th><th data-type=\"num\">seconds</th><th data-type=\"num\">tokens</th>"
       "<th data-type=\"num\">evaluation</th><th data-type=\"text\">reason</th></tr></thead><tbody>";
  for (const TaskResult& t : run.tasks) {
    std::vector<double> sol;
    for (const CaseTiming& c : t.timings)
      if (auto f = c.SolFraction()) sol.push_back(*f);
    const auto eager = TaskSpeedupEager(t), compiled = TaskSpeedupCompiled(t);
    const auto sol_median = Median(sol);
    // data-v holds the sort key; -1 sorts missing numbers first.
    o << fmt::format(
        "<tr><td>{}</td><td style=\"color:{}\">{}</td><td>{}</td><td data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td>"
        "<td data-v=\"{}\">{}</td><td data-v=\"{}\">{:.1f}</td><td data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td><td>{}</td></tr>",
        HtmlEscape(t.op), StatusColour(t.status), TaskStatusName(t.status), HtmlEscape(t.verdict), eager.value_or(-1),
        FormatSpeedup(eager), compiled.value_or(-1), FormatSpeedup(compiled), sol_median.value_or(-1),
        sol_median ? FormatPercent(*sol_median) : "-", t.seconds, t.seconds, t.tokens, t.tokens, t.evaluation_id,
        t.evaluation_id > 0 ? std::to_string(t.evaluation_id) : "-", HtmlEscape(t.reason));
  }
  o << "</tbody></table>";
  return o.str();
}

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.run{color:#555;font-size:13px}.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:120px}
.card .v{font-size:22px;font-weight:600}.card .k{font-size:12px;color:#666}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}
th{background:#f4f4f4}body.js table.sortable th{cursor:pointer}body.js table.sortable th:after{content:" ⇅";color:#aaa}
.note{color:#666;font-size:13px}
)";

// Sorting only: clicking a header sorts by that column (numbers by data-v).
// The body gets class "js" so the sort arrows show only where sorting works.
constexpr const char* kScript = R"(
document.body.classList.add('js');
document.querySelectorAll('table.sortable').forEach(function(table){
  table.querySelectorAll('th').forEach(function(th, col){
    th.addEventListener('click', function(){
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var num = th.dataset.type === 'num', dir = th.dataset.dir === 'asc' ? -1 : 1;
      th.dataset.dir = dir === 1 ? 'asc' : 'desc';
      rows.sort(function(a, b){
        var x = a.cells[col], y = b.cells[col];
        if (num) return dir * (parseFloat(x.dataset.v) - parseFloat(y.dataset.v));
        return dir * x.textContent.localeCompare(y.textContent);
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
)";

}  // namespace

std::string HtmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string RenderHtmlReport(const SuiteRun& run) {
  const SuiteMetrics m = ComputeMetrics(run.tasks);
  std::vector<double> speedups;
  std::vector<std::pair<std::string, double>> per_op;
  for (const TaskResult& t : run.tasks) {
    if (t.status != TaskStatus::kCorrect) continue;
    if (auto s = TaskSpeedupEager(t)) {
      speedups.push_back(*s);
      per_op.emplace_back(t.op, *s);
    }
  }
  const std::string title = fmt::format("Anvil suite run {}: {} on {}", run.id, run.suite, run.target);
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << HtmlEscape(title) << "</title><style>"
    << kStyle << "</style></head><body>\n";
  o << "<h1>" << HtmlEscape(title) << "</h1>\n";
  o << fmt::format("<p class=\"run\">generator <b>{}</b> · device {} · {} · started {} · {}</p>\n", HtmlEscape(run.generator),
                   HtmlEscape(run.device), HtmlEscape(run.software), HtmlEscape(run.started_at),
                   run.finished_at.empty() ? "<b>not finished</b>" : "finished " + HtmlEscape(run.finished_at));
  o << "<div class=\"cards\" id=\"summary\">";
  auto card = [&](const std::string& id, const std::string& value, const std::string& key) {
    o << fmt::format("<div class=\"card\" id=\"{}\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>", id, value, key);
  };
  card("card-tasks", std::to_string(m.tasks), "tasks");
  card("card-correct", FormatPercent(m.correctness_rate), "correct (fast_0)");
  card("card-build", FormatPercent(m.build_rate), "built");
  card("card-eager", FormatSpeedup(m.eager.geomean_speedup), "geomean vs eager");
  card("card-compiled", FormatSpeedup(m.compiled.geomean_speedup), "geomean vs torch.compile");
  card("card-sol", m.median_sol_fraction ? FormatPercent(*m.median_sol_fraction) : "-", "median speed of light");
  card("card-time", Seconds(m.seconds), "time");
  card("card-tokens", std::to_string(m.tokens), "LLM tokens");
  o << "</div>\n";
  o << "<p class=\"note\">Tasks by status: ";
  bool first = true;
  for (const auto& [status, n] : m.by_status) {
    o << (first ? "" : ", ") << HtmlEscape(status) << " " << n;
    first = false;
  }
  o << ". Speedups are geometric means over a task's performance cases, then over tasks, counting correct kernels only;"
       " fast_p counts every task (a missing or wrong kernel is not fast).</p>\n";
  o << "<h2>fast_p</h2>" << FastTable(m) << "\n";
  o << "<h2>Speedup distribution</h2>" << SpeedupHistogram(speedups) << "\n";
  o << "<h2>Speedup per op (vs eager)</h2>"
    << (per_op.empty() ? std::string("<p class=\"note\" id=\"chart-ops\">No correct, timed kernel.</p>") : PerOpBars(per_op)) << "\n";
  o << "<h2>Speed of light</h2>" << RooflineScatter(run) << "\n";
  o << "<h2>By dtype</h2>" << DtypeTable(run) << "\n";
  o << "<h2>Tasks</h2><p class=\"note\">Click a column header to sort.</p>" << TaskTable(run) << "\n";
  o << "<script>" << kScript << "</script>\n</body></html>\n";
  return o.str();
}

}  // namespace anvil::suite
