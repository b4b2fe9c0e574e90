#include "IndexVerifier.h"

#include "SignedStatement.h"
#include "SigningKey.h"

namespace peerchat {

void IndexVerifier::reset(const PublicKey& indexIdentity, const Epoch& epoch)
{
    _indexIdentity = indexIdentity;
    _epoch = epoch;
    _ready = true;
}

std::string IndexVerifier::checkPresence(const Message& announcement) const
{
    const std::string verb(Protocol::verb(announcement));
    if (!_ready) return verb + " before indexd's welcome: nothing to check its signature with";
    std::optional<Signature> sig;
    if (const auto* login = std::get_if<Login>(&announcement)) {
        sig = login->sig;
    } else if (const auto* logout = std::get_if<Logout>(&announcement)) {
        sig = logout->sig;
    } else {
        return verb + " is no presence announcement";
    }
    if (!sig) return "unsigned " + verb;
    if (!SigningKey::verify(_indexIdentity, SignedStatement::presence(announcement, _epoch), *sig)) {
        return verb + " not signed by indexd's key for this run of indexd";
    }
    if (const auto* login = std::get_if<Login>(&announcement)) return checkKeys(login->name, login->dialect, login->keys);
    return {};
}

std::string IndexVerifier::checkRoster(const RosterTrailer& trailer, const RosterNonce& nonce) const
{
    if (!_ready) return "roster before indexd's welcome: nothing to check its signature with";
    if (!trailer.sig) return "unsigned roster";
    const std::string statement = SignedStatement::roster(RosterCodec::digest(trailer.signedPart), _epoch, nonce);
    if (!SigningKey::verify(_indexIdentity, statement, *trailer.sig)) {
        return "roster not signed by indexd's key for this run of indexd and this fetch (an old roster, or another "
               "key's)";
    }
    return {};
}

std::string IndexVerifier::checkKeys(const std::string& name, const std::string& dialect,
                                     const std::optional<PeerKeys>& keys) const
{
    if (dialectFromToken(dialect) != Dialect::Peerchat) {
        if (keys) return name + " speaks " + (dialect.empty() ? "seed" : dialect) + " but comes with keys";
        return {};
    }
    if (!keys) return name + " speaks peerchat/3 but comes without keys";
    if (!_ready) return name + "'s keys before indexd's welcome: nothing to check them with";
    if (!SigningKey::verify(keys->identity,
                            SignedStatement::kx(keys->identity, name, keys->kx, _indexIdentity, _epoch), keys->kxSig)) {
        return name + "'s key-exchange key is not signed by its identity key for this run of indexd";
    }
    return {};
}

} // namespace peerchat
