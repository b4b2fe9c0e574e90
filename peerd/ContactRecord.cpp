#include "ContactRecord.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace peerchat {

namespace {

constexpr std::pair<Relation, std::string_view> kRelations[] = {
    {Relation::None, "none"},
    {Relation::Asked, "asked"},
    {Relation::AskedMe, "asked-me"},
    {Relation::Contact, "contact"},
};

} // namespace

std::string_view relationToken(Relation relation)
{
    for (const auto& [known, token] : kRelations) {
        if (known == relation) return token;
    }
    return "none";
}

std::optional<Relation> relationFromToken(std::string_view token)
{
    const auto known = std::find_if(std::begin(kRelations), std::end(kRelations),
                                    [&](const auto& relation) { return relation.second == token; });
    if (known == std::end(kRelations)) return std::nullopt;
    return known->first;
}

} // namespace peerchat
