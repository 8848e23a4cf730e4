#include "config/alias_expansion.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <sstream>
#include <vector>

namespace tcpreap {

namespace {

SourceMark mark_of(const YAML::Mark& m) { return {m.line + 1, m.column + 1}; }  // yaml-cpp counts from 0

// Counts, for each anchor, the nodes its subtree stands for (its aliases
// expanded), and in all what the aliases add. Stops at the first problem:
// the parser is then left to finish its document unweighed.
class AliasWeigher : public YAML::EventHandler {
 public:
  explicit AliasWeigher(uint64_t limit) : limit_(limit) {}

  std::optional<AliasProblem> problem;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { leaf(anchor); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    leaf(anchor);
  }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t anchor) override {
    if (problem) return;
    if (anchor >= weight_.size()) return;  // unknown: the parser refuses it
    if (open(anchor)) {
      problem = AliasProblem{mark_of(m), "an alias of the node it is part of: a cycle no reader can finish"};
      return;
    }
    const uint64_t w = weight_[anchor];
    added_ = w > limit_ ? limit_ + 1 : added_ + w;
    if (added_ > limit_) {
      problem = AliasProblem{mark_of(m), "the aliases stand for more than " + std::to_string(limit_) +
                                             " nodes (an alias bomb?); a config needs a few hundred"};
      return;
    }
    count(w);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    start(anchor);
  }
  void OnSequenceEnd() override { end(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    start(anchor);
  }
  void OnMapEnd() override { end(); }

 private:
  struct Frame {
    YAML::anchor_t anchor;
    uint64_t nodes;
  };

  bool open(YAML::anchor_t anchor) const {
    for (const Frame& f : stack_)
      if (f.anchor == anchor) return true;
    return false;
  }
  // Adds `n` nodes to the innermost open collection; saturates past the
  // limit (the limit is what matters, not the exact figure).
  void count(uint64_t n) {
    if (stack_.empty()) return;
    uint64_t& nodes = stack_.back().nodes;
    nodes = n > limit_ || nodes > limit_ ? limit_ + 1 : nodes + n;
  }
  void record(YAML::anchor_t anchor, uint64_t nodes) {
    if (anchor == YAML::NullAnchor) return;
    if (anchor >= weight_.size()) weight_.resize(anchor + 1, 0);
    weight_[anchor] = nodes;
  }
  void leaf(YAML::anchor_t anchor) {
    record(anchor, 1);
    count(1);
  }
  void start(YAML::anchor_t anchor) {
    // Known from here on, so that an alias inside it is seen as a cycle
    // rather than as unknown.
    if (anchor != YAML::NullAnchor && anchor >= weight_.size()) weight_.resize(anchor + 1, 0);
    stack_.push_back({anchor, 1});
  }
  void end() {
    if (stack_.empty()) return;
    const Frame f = stack_.back();
    stack_.pop_back();
    record(f.anchor, f.nodes);
    count(f.nodes);
  }

  const uint64_t limit_;
  std::vector<Frame> stack_;
  std::vector<uint64_t> weight_;  // by anchor number; yaml-cpp numbers them 1, 2, ...
  uint64_t added_ = 0;            // by aliases, over the document
};

}  // namespace

std::optional<AliasProblem> alias_problem(std::string_view text, uint64_t limit) {
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    AliasWeigher weigher(limit);
    parser.HandleNextDocument(weigher);
    return weigher.problem;
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

}  // namespace tcpreap
