#include "Mailbox.h"

#include <Poco/Data/LOB.h>

using namespace Poco::Data::Keywords;

namespace peerchat {

Mailbox::Mailbox(IndexDatabase& database, const MailBudget::Limits& limits)
    : _session(database.session()), _budget(limits)
{
    std::vector<std::string> senders, recipients;
    std::vector<Poco::Int64> sizes;
    _session << "SELECT sender, recipient, length(box) FROM mail", into(senders), into(recipients), into(sizes), now;
    for (std::size_t i = 0; i < senders.size(); ++i)
        _budget.add(senders[i], recipients[i], static_cast<std::uint64_t>(sizes[i]));
}

Mailbox::StoreResult Mailbox::store(const std::string& to, const Letter& letter, std::uint64_t storedAtMs)
{
    auto seq = static_cast<Poco::Int64>(letter.seq);
    int held = 0;
    _session << "SELECT COUNT(*) FROM mail WHERE recipient = ? AND sender = ? AND stream = ? AND seq = ?",
        useRef(to), useRef(letter.from), useRef(letter.stream), use(seq), into(held), now;
    if (held > 0) return {StoreResult::Kind::Duplicate};
    if (const auto limit = _budget.exceeded(letter.from, to, letter.box.size()))
        return {StoreResult::Kind::Refused, *limit};
    const Poco::Data::BLOB box(reinterpret_cast<const unsigned char*>(letter.box.data()), letter.box.size());
    auto storedAt = static_cast<Poco::Int64>(storedAtMs);
    _session << "INSERT INTO mail (recipient, sender, stream, seq, box, stored_at) VALUES (?, ?, ?, ?, ?, ?)",
        useRef(to), useRef(letter.from), useRef(letter.stream), use(seq), useRef(box), use(storedAt), now;
    _budget.add(letter.from, to, letter.box.size());
    return {StoreResult::Kind::Stored};
}

std::vector<Mailbox::Letter> Mailbox::waitingFor(const std::string& to)
{
    std::vector<std::string> senders, streams;
    std::vector<Poco::Int64> seqs;
    std::vector<Poco::Data::BLOB> boxes;
    _session << "SELECT sender, stream, seq, box FROM mail WHERE recipient = ? ORDER BY sender, stream, seq",
        useRef(to), into(senders), into(streams), into(seqs), into(boxes), now;
    std::vector<Letter> letters;
    letters.reserve(senders.size());
    for (std::size_t i = 0; i < senders.size(); ++i) {
        const auto& raw = boxes[i].content();
        letters.push_back(Letter{senders[i], streams[i], static_cast<std::uint64_t>(seqs[i]),
                                 std::string(raw.begin(), raw.end())});
    }
    return letters;
}

std::size_t Mailbox::acknowledge(const std::string& to, const std::string& stream, std::uint64_t seq)
{
    auto upTo = static_cast<Poco::Int64>(seq);
    std::vector<std::string> senders;
    std::vector<Poco::Int64> sizes;
    // One statement: what leaves the table is exactly what leaves the budget.
    _session << "DELETE FROM mail WHERE recipient = ? AND stream = ? AND seq <= ? RETURNING sender, length(box)",
        useRef(to), useRef(stream), use(upTo), into(senders), into(sizes), now;
    for (std::size_t i = 0; i < senders.size(); ++i)
        _budget.remove(senders[i], to, static_cast<std::uint64_t>(sizes[i]));
    return senders.size();
}

std::size_t Mailbox::expireBefore(std::uint64_t cutoffMs)
{
    auto cutoff = static_cast<Poco::Int64>(cutoffMs);
    std::vector<std::string> senders, recipients;
    std::vector<Poco::Int64> sizes;
    _session << "DELETE FROM mail WHERE stored_at < ? RETURNING sender, recipient, length(box)", use(cutoff),
        into(senders), into(recipients), into(sizes), now;
    for (std::size_t i = 0; i < senders.size(); ++i)
        _budget.remove(senders[i], recipients[i], static_cast<std::uint64_t>(sizes[i]));
    return senders.size();
}

} // namespace peerchat
