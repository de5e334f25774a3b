#include "api/ops/restore_ranges.h"

#include <algorithm>
#include <limits>
#include <map>

#include "jobs/log_barriers.h"
#include "jobs/log_chain.h"
#include "jobs/tasks.h"

namespace opendbs::api::ops {
namespace {

int64_t int_field(const boost::json::object& doc, const char* name, int64_t fallback = -1) {
  auto it = doc.find(name);
  return it != doc.end() && it->value().is_int64() ? it->value().as_int64() : fallback;
}

using jobs::LogChain;

// How far the log chain after a set reaches, and the first barrier the set's roll-forward meets.
struct ChainReach {
  int64_t end_ms = 0;
  std::optional<engines::LogBarrier> cut;
  int64_t reach_ms() const { return cut ? std::min(end_ms, cut->latest_ms) : end_ms; }
};

ChainReach reach_from(const LogChain& chain, const boost::json::object& set_doc) {
  const int64_t first_seq = int_field(set_doc, "_LogStartSeq");
  const int64_t epoch = jobs::source_epoch(set_doc);
  const int64_t start_position = jobs::log_start_position_of(set_doc);
  ChainReach out{int_field(set_doc, "EndTime", 0), std::nullopt};
  for (int64_t seq = first_seq; first_seq >= 0 && chain.end_at.count({epoch, seq}); ++seq) {
    out.end_ms = std::max(out.end_ms, chain.end_at.at({epoch, seq}));
    // A barrier concerns the set when it blocks any moment at all from it; the set then reaches the
    // barrier's latest moment and no further (a later barrier lies beyond that moment).
    if (auto it = chain.barriers_at.find({epoch, seq}); it != chain.barriers_at.end())
      for (const auto& b : it->second)
        if (b.blocks(start_position, std::numeric_limits<int64_t>::max()) && (!out.cut || b.latest_ms < out.cut->latest_ms))
          out.cut = b;
    if (out.cut || !chain.links.count({epoch, seq})) break;
  }
  return out;
}

}  // namespace

core::Result<std::vector<RestoreRange>> restore_ranges(catalog::Tx& tx, const std::string& plan_id,
                                                       std::map<std::string, std::string>* unrestorable) {
  catalog::Query sets_q{catalog::Kind::backup_set};
  sets_q.parent_id = plan_id;
  sets_q.states = {"finish"};
  sets_q.newest_first = false;
  OPENDBS_ASSIGN(auto sets, tx.list(sets_q));
  OPENDBS_ASSIGN(const auto chain, jobs::load_log_chain(tx, plan_id));
  std::vector<RestoreRange> out;
  for (const auto& s : sets) {
    const int64_t end = int_field(s.doc, "EndTime", 0);
    const ChainReach chain_reach = reach_from(chain, s.doc);
    const int64_t reach = chain_reach.reach_ms();
    if (reach < end) {  // the barrier comes before the set's own consistent point
      if (unrestorable) (*unrestorable)[s.id] = "its log replays a " + chain_reach.cut->what + " before the set's EndTime";
      continue;
    }
    const std::string cut_by = reach < chain_reach.end_ms ? chain_reach.cut->what : "";
    RestoreRange r{reach > end ? "range" : "point", end, reach, {s.id}, {end}, {reach}, {cut_by}};
    // A range that starts inside the previous one extends it (both restore from their own base set).
    if (!out.empty() && out.back().type == "range" && r.type == "range" && r.begin_ms <= out.back().end_ms) {
      out.back().end_ms = std::max(out.back().end_ms, r.end_ms);
      out.back().full_set_ids.push_back(s.id);
      out.back().full_set_end_ms.push_back(end);
      out.back().full_set_reach_ms.push_back(reach);
      out.back().full_set_cut_by.push_back(cut_by);
      continue;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> base_sets_for(const std::vector<RestoreRange>& ranges, int64_t time_ms) {
  std::vector<std::pair<std::string, int64_t>> found;  // set and how far its own chain reaches, oldest first
  for (const auto& r : ranges) {
    if (time_ms < r.begin_ms || time_ms > r.end_ms) continue;
    for (size_t i = 0; i < r.full_set_ids.size(); ++i)
      if (r.full_set_end_ms[i] <= time_ms) found.emplace_back(r.full_set_ids[i], r.full_set_reach_ms[i]);
  }
  // The newest comes first as the range promises it (a merged range reaches the moment from it); an
  // older one only if its own chain gets there.
  std::vector<std::string> out;
  for (auto it = found.rbegin(); it != found.rend(); ++it)
    if (out.empty() || it->second >= time_ms) out.push_back(it->first);
  return out;
}

std::string RestoreRange::cut_by() const {
  for (size_t i = 0; i < full_set_ids.size(); ++i)
    if (full_set_reach_ms[i] == end_ms && !full_set_cut_by[i].empty()) return full_set_cut_by[i];
  return "";
}

std::optional<SetReach> reach_of_set(const std::vector<RestoreRange>& ranges, const std::string& set_id) {
  for (const auto& r : ranges)
    for (size_t i = 0; i < r.full_set_ids.size(); ++i)
      if (r.full_set_ids[i] == set_id) return SetReach{r.full_set_end_ms[i], r.full_set_reach_ms[i], r.full_set_cut_by[i]};
  return std::nullopt;
}

}  // namespace opendbs::api::ops
