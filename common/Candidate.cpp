#include "Candidate.h"

namespace peerchat {

namespace {

constexpr std::pair<CandidateKind, std::string_view> kKinds[] = {
    {CandidateKind::Host, "host"}, {CandidateKind::Reflexive, "srflx"}, {CandidateKind::Relay, "relay"}};

constexpr std::string_view kNone = "-";

} // namespace

std::string_view CandidateList::kindToken(CandidateKind kind)
{
    for (const auto& [known, token] : kKinds) {
        if (known == kind) return token;
    }
    return "host";
}

Parsed<std::vector<Candidate>> CandidateList::parse(std::string_view text)
{
    std::vector<Candidate> candidates;
    if (text == kNone) return candidates;
    while (true) {
        const std::size_t end = text.find(';');
        const std::string_view item = text.substr(0, end);
        const std::size_t equals = item.find('=');
        if (equals == std::string_view::npos) {
            return Parsed<std::vector<Candidate>>::refuse("a candidate must be KIND=ENDPOINT");
        }
        Candidate candidate;
        bool known = false;
        for (const auto& [kind, token] : kKinds) {
            if (item.substr(0, equals) == token) {
                candidate.kind = kind;
                known = true;
            }
        }
        if (!known) return Parsed<std::vector<Candidate>>::refuse("a candidate's kind must be host, srflx or relay");
        const Parsed<Endpoint> endpoint = Endpoint::parse(item.substr(equals + 1));
        if (!endpoint) return Parsed<std::vector<Candidate>>::refuse("candidate: " + endpoint.error());
        candidate.endpoint = *endpoint;
        if (candidates.size() == kMaxCandidates) {
            return Parsed<std::vector<Candidate>>::refuse("more than " + std::to_string(kMaxCandidates) +
                                                          " candidates");
        }
        candidates.push_back(candidate);
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return candidates;
}

std::string CandidateList::format(const std::vector<Candidate>& candidates)
{
    if (candidates.empty()) return std::string(kNone);
    std::string text;
    for (const Candidate& candidate : candidates) {
        if (!text.empty()) text += ';';
        text += std::string(kindToken(candidate.kind)) + "=" + candidate.endpoint.toString();
    }
    return text;
}

} // namespace peerchat
