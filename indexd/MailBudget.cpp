#include "MailBudget.h"

#include <algorithm>

namespace peerchat {

namespace {

// True when one more letter of bytes takes a tally past lines or maxBytes.
template <typename Tally>
bool passes(const Tally& tally, std::uint64_t bytes, std::size_t lines, std::uint64_t maxBytes)
{
    return tally.lines + 1 > lines || tally.bytes + bytes > maxBytes;
}

} // namespace

MailBudget::MailBudget(const Limits& limits) : _limits(limits) {}

std::optional<MailLimit> MailBudget::exceeded(const std::string& sender, const std::string& recipient,
                                              std::uint64_t bytes) const
{
    const Tally none;
    const auto pair = _byPair.find({sender, recipient});
    if (passes(pair == _byPair.end() ? none : pair->second, bytes, _limits.pairLines, _limits.pairBytes))
        return MailLimit::Pair;
    const auto from = _bySender.find(sender);
    if (passes(from == _bySender.end() ? none : from->second, bytes, _limits.senderLines, _limits.senderBytes))
        return MailLimit::Sender;
    if (linesFor(recipient) + 1 > _limits.recipientLines) return MailLimit::Recipient;
    if (_bytes + bytes > _limits.totalBytes) return MailLimit::Total;
    return std::nullopt;
}

void MailBudget::add(const std::string& sender, const std::string& recipient, std::uint64_t bytes)
{
    for (Tally* tally : {&_byPair[{sender, recipient}], &_bySender[sender], &_byRecipient[recipient]}) {
        tally->lines += 1;
        tally->bytes += bytes;
    }
    _lines += 1;
    _bytes += bytes;
}

void MailBudget::remove(const std::string& sender, const std::string& recipient, std::uint64_t bytes)
{
    // Every letter counted has its pair's tally, and its sender's and recipient's.
    const auto pair = _byPair.find({sender, recipient});
    if (pair == _byPair.end()) return;
    takeOut(_byPair, pair, bytes);
    takeOut(_bySender, _bySender.find(sender), bytes);
    takeOut(_byRecipient, _byRecipient.find(recipient), bytes);
    _lines -= 1;
    _bytes -= std::min(_bytes, bytes);
}

std::size_t MailBudget::linesFor(const std::string& recipient) const
{
    const auto it = _byRecipient.find(recipient);
    return it == _byRecipient.end() ? 0 : it->second.lines;
}

template <typename Map>
void MailBudget::takeOut(Map& tallies, typename Map::iterator it, std::uint64_t bytes)
{
    Tally& tally = it->second;
    if (tally.lines <= 1) {
        tallies.erase(it);
        return;
    }
    tally.lines -= 1;
    tally.bytes -= std::min(tally.bytes, bytes);
}

} // namespace peerchat
