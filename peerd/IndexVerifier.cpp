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
