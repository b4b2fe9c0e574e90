#include "KeyPinStore.h"

#include "Base64.h"

#include <Poco/Data/Session.h>
#include <Poco/Nullable.h>

#include <vector>

namespace peerchat {

using namespace Poco::Data::Keywords;

namespace {

// The key a keys or index_keys column holds; throws Poco::DataFormatException
// naming what when the text is not a base64url key of 32 bytes.
PublicKey keyColumn(const std::string& text, const std::string& what)
{
    PublicKey key{};
    if (!Base64::decodeInto(text, key)) throw Poco::DataFormatException("the stored key of " + what + " is damaged");
    return key;
}

std::optional<std::string> keylessText(KeyPin::Keyless keyless)
{
    switch (keyless) {
    case KeyPin::Keyless::Offered: return std::string("offered");
    case KeyPin::Keyless::Accepted: return std::string("accepted");
    case KeyPin::Keyless::None: break;
    }
    return std::nullopt;
}

// The keys table's keyless column; throws Poco::DataFormatException naming
// what for a value no peerd writes.
KeyPin::Keyless keylessColumn(const Poco::Nullable<std::string>& text, const std::string& what)
{
    if (text.isNull()) return KeyPin::Keyless::None;
    for (const KeyPin::Keyless keyless : {KeyPin::Keyless::Offered, KeyPin::Keyless::Accepted}) {
        if (*keylessText(keyless) == text.value()) return keyless;
    }
    throw Poco::DataFormatException("the stored pin of " + what + " is damaged");
}

} // namespace

KeyPinStore::KeyPinStore(StoreDatabase& database) : _database(database)
{
}

std::map<std::string, KeyPin> KeyPinStore::keyPins() const
{
    std::vector<std::string> names;
    std::vector<std::string> pinned;
    std::vector<Poco::Nullable<std::string>> offered;
    std::vector<Poco::Nullable<std::string>> keyless;
    _database.read([&](Poco::Data::Session& session) {
        session << "SELECT name, pinned, offered, keyless FROM keys", into(names), into(pinned), into(offered),
            into(keyless), now;
    });
    std::map<std::string, KeyPin> keys;
    try {
        for (std::size_t i = 0; i < names.size(); ++i) {
            KeyPin entry{keyColumn(pinned[i], names[i]), std::nullopt, keylessColumn(keyless[i], names[i])};
            if (!offered[i].isNull()) entry.offered = keyColumn(offered[i].value(), names[i]);
            keys.emplace(names[i], entry);
        }
    } catch (const Poco::DataFormatException& e) {
        throw damaged(e.message());
    }
    return keys;
}

void KeyPinStore::saveKeyPin(const std::string& name, const KeyPin& keys)
{
    _database.record([&] { return "pin the key of " + name; }, StoreChange{pinChange(name, keys)});
}

store::PutKeyPin KeyPinStore::pinChange(const std::string& name, const KeyPin& keys)
{
    return store::PutKeyPin{name, Base64::encode(keys.pinned),
                            keys.offered ? std::optional<std::string>(Base64::encode(*keys.offered)) : std::nullopt,
                            keylessText(keys.keyless)};
}

std::map<std::string, PublicKey> KeyPinStore::indexKeys() const
{
    std::vector<std::string> endpoints;
    std::vector<std::string> texts;
    _database.read([&](Poco::Data::Session& session) {
        session << "SELECT endpoint, key FROM index_keys", into(endpoints), into(texts), now;
    });
    std::map<std::string, PublicKey> keys;
    try {
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            keys.emplace(endpoints[i], keyColumn(texts[i], "indexd at " + endpoints[i]));
    } catch (const Poco::DataFormatException& e) {
        throw damaged(e.message());
    }
    return keys;
}

void KeyPinStore::saveIndexKey(const std::string& indexEndpoint, const PublicKey& key)
{
    _database.record([&] { return "pin the key of indexd at " + indexEndpoint; },
                     StoreChange{store::PutIndexKey{indexEndpoint, Base64::encode(key)}});
}

Poco::IOException KeyPinStore::damaged(const std::string& why) const
{
    return Poco::IOException("cannot read the pinned keys in " + _database.path() + ": " + why +
                             "; move the database aside or pass another --database");
}

} // namespace peerchat
