#include "Mailbox.h"

#include <Poco/Data/LOB.h>

using namespace Poco::Data::Keywords;

namespace peerchat {

Mailbox::Mailbox(IndexDatabase& database, std::size_t limit) : _session(database.session()), _limit(limit) {}

Mailbox::StoreResult Mailbox::store(const std::string& to, const Letter& letter)
{
    auto seq = static_cast<Poco::Int64>(letter.seq);
    int held = 0;
    _session << "SELECT COUNT(*) FROM mail WHERE recipient = ? AND sender = ? AND stream = ? AND seq = ?",
        useRef(to), useRef(letter.from), useRef(letter.stream), use(seq), into(held), now;
    if (held > 0) return StoreResult::Duplicate;
    if (countFor(to) >= _limit) return StoreResult::Full;
    const Poco::Data::BLOB box(reinterpret_cast<const unsigned char*>(letter.box.data()), letter.box.size());
    _session << "INSERT INTO mail (recipient, sender, stream, seq, box) VALUES (?, ?, ?, ?, ?)", useRef(to),
        useRef(letter.from), useRef(letter.stream), use(seq), useRef(box), now;
    return StoreResult::Stored;
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
    Poco::Data::Statement remove(_session);
    remove << "DELETE FROM mail WHERE recipient = ? AND stream = ? AND seq <= ?", useRef(to), useRef(stream),
        use(upTo);
    return remove.execute();
}

std::size_t Mailbox::countFor(const std::string& to)
{
    std::size_t count = 0;
    _session << "SELECT COUNT(*) FROM mail WHERE recipient = ?", useRef(to), into(count), now;
    return count;
}

} // namespace peerchat
