#include "IncomingStreams.h"

#include "StoreSchema.h"

#include <Poco/Data/Session.h>

#include <vector>

namespace peerchat {

using namespace Poco::Data::Keywords;

IncomingStreams::IncomingStreams(StoreDatabase& database, LineStore& lines) : _database(database), _lines(lines)
{
    _database.load([this](Poco::Data::Session& session) {
        std::vector<std::string> senders;
        std::vector<std::string> streams;
        std::vector<Poco::Int64> delivered;
        session << "SELECT sender, stream, delivered FROM incoming_stream", into(senders), into(streams),
            into(delivered), now;
        for (std::size_t i = 0; i < senders.size(); ++i)
            _positions[{senders[i], streams[i]}] = storeschema::fromColumn(delivered[i]);
    });
}

std::uint64_t IncomingStreams::delivered(const std::string& sender, const std::string& stream) const
{
    const auto it = _positions.find({sender, stream});
    return it == _positions.end() ? 0 : it->second;
}

local::ChatLine IncomingStreams::deliver(const std::string& sender, const std::string& stream, std::uint64_t seq,
                                         std::string sentTime, std::int64_t receivedAtMs, std::string text)
{
    local::ChatLine line = _lines.add(local::ChatLine{0, ConversationId::direct(sender), false, sender,
                                                      std::move(sentTime), receivedAtMs, std::move(text),
                                                      local::LineState::Received},
                                      true, {}, {store::PutIncomingStream{sender, stream, seq}},
                                      [&] { return "store a line from " + sender; });
    _positions[{sender, stream}] = seq;
    return line;
}

void IncomingStreams::pass(const std::string& sender, const std::string& stream, std::uint64_t seq)
{
    _database.record([&] { return "pass over a line from " + sender; },
                     StoreChange{store::PutIncomingStream{sender, stream, seq}});
    _positions[{sender, stream}] = seq;
}

std::set<std::string> IncomingStreams::senders() const
{
    std::set<std::string> senders;
    for (const auto& [key, delivered] : _positions) senders.insert(key.first);
    return senders;
}

} // namespace peerchat
