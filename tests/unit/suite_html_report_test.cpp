// The suite's HTML report opened in a real headless browser (Debian's
// chromium): the page's script runs (body gets class "js"), the headline
// numbers, charts and every task row are in the rendered DOM, and a
// screenshot of the page is far from blank. Skips with a line when chromium
// is not installed (scripts/setup.sh installs it).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include <fmt/format.h>

#include "store_test_util.h"
#include "suite/html_report.h"
#include "util/subprocess.h"

namespace anvil::suite {
namespace {

std::string Chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    if (std::string path = FindExecutable(name); !path.empty()) return path;
  return "";
}

std::vector<std::string> BrowserArgs(const std::string& chromium, const std::string& profile) {
  // --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
  return {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + profile};
}

SuiteRun SampleRun() {
  SuiteRun run;
  run.id = 12;
  run.suite = "fused";
  run.target = "triton";
  run.generator = "builtin";
  run.device = "NVIDIA H200";
  run.software = "anvil 0.1, torch 2.11";
  run.started_at = "2026-11-22T01:00:00.000Z";
  run.finished_at = "2026-11-22T01:30:00.000Z";
  auto task = [](const std::string& op, TaskStatus status, double speedup, double sol) {
    TaskResult t;
    t.task = "fused." + op;
    t.op = op;
    t.status = status;
    t.dtypes = {"f32", "f16"};
    t.seconds = 40;
    if (status == TaskStatus::kCorrect)
      for (const char* d : {"f32", "f16"}) {
        CaseTiming c;
        c.label = std::string(d) + " R=4096 C=4096";
        c.dtype = d;
        c.candidate_ns = 1000;
        c.eager_ns = 1000 * speedup;
        c.compiled_ns = 900 * speedup;
        c.speed_of_light_ns = 1000 * sol;
        c.min_bytes = 6.7e7;
        t.timings.push_back(c);
      }
    return t;
  };
  run.tasks = {task("softmax_scaled", TaskStatus::kCorrect, 3.1, 0.91), task("rmsnorm", TaskStatus::kCorrect, 2.0, 0.62),
               task("mse_row", TaskStatus::kCorrect, 0.54, 0.3), task("swiglu", TaskStatus::kIncorrect, 0, 0),
               task("layer_norm_<b>", TaskStatus::kBuildFailed, 0, 0)};
  run.tasks[3].verdict = "wrong";
  run.tasks[3].reason = "case 7: max rel error 3e-2 > 1e-3";
  return run;
}

TEST(SuiteHtmlReport, RendersInHeadlessChromium) {
  const std::string chromium = Chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium not installed (scripts/setup.sh installs it): HTML report not rendered";
  anvil::testing::ScratchDir dir;
  const std::string page = dir.File("report.html");
  { std::ofstream(page) << RenderHtmlReport(SampleRun()); }

  std::vector<std::string> args = BrowserArgs(chromium, dir.File("profile"));
  args.push_back("--dump-dom");
  args.push_back("file://" + page);
  auto dom = RunProcess(args, 90);
  ASSERT_TRUE(dom.ok()) << dom.status().message();
  ASSERT_EQ(dom->exit_code, 0) << dom->output;
  const std::string& html = dom->output;
  // The script ran without an error (it marks the body first thing).
  EXPECT_TRUE(std::regex_search(html, std::regex(R"(<body[^>]*class="js")"))) << html.substr(0, 2000);
  // Headline numbers: 3 of 5 correct; geomean vs eager over the correct ones = cbrt(3.1 * 2.0 * 0.54).
  EXPECT_NE(html.find("60.0%"), std::string::npos);
  EXPECT_NE(html.find(fmt::format("{:.2f}x", std::cbrt(3.1 * 2.0 * 0.54))), std::string::npos);
  for (const char* id : {"chart-histogram", "chart-ops", "chart-roofline", "fast-p", "by-dtype", "tasks"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  for (const char* op : {"softmax_scaled", "rmsnorm", "mse_row", "swiglu"}) EXPECT_NE(html.find(op), std::string::npos) << op;
  // A name with markup is text, not markup.
  EXPECT_NE(html.find("layer_norm_&lt;b&gt;"), std::string::npos);
  EXPECT_NE(html.find("case 7: max rel error"), std::string::npos);

  // A screenshot of the report against one of an empty page: charts and
  // tables make the PNG several times larger than a blank canvas.
  auto shot = [&](const std::string& url, const std::string& png) -> size_t {
    std::vector<std::string> a = BrowserArgs(chromium, dir.File("profile"));
    a.push_back("--window-size=1200,1600");
    a.push_back("--screenshot=" + png);
    a.push_back(url);
    auto r = RunProcess(a, 90);
    EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->output : r.status().message());
    std::error_code ec;
    return std::filesystem::exists(png) ? std::filesystem::file_size(png, ec) : 0;
  };
  { std::ofstream(dir.File("blank.html")) << "<!DOCTYPE html><html><body></body></html>"; }
  const size_t report_png = shot("file://" + page, dir.File("report.png"));
  const size_t blank_png = shot("file://" + dir.File("blank.html"), dir.File("blank.png"));
  ASSERT_GT(blank_png, 0u);
  EXPECT_GT(report_png, 4 * blank_png) << "report " << report_png << " bytes, blank page " << blank_png << " bytes";
}

}  // namespace
}  // namespace anvil::suite
