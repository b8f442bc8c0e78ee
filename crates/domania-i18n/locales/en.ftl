# Domania's messages in English (on request). Every message is in fr.ftl too: a test checks.
# Numbers, areas and dates come already written.

parcels-count = { $count ->
    [one] { $count } parcel
   *[other] { $count } parcels
}

## The decisions of the 60 % rule and their reasons

denominator-subsector = of the sub-sector
denominator-cadastre = of its cadastré land
decision-outside = outside every sub-sector: gestion selon la domanialité
decision-none-holds = sub-sector { $subsector }: none of { $actors } holds land → gestion selon la domanialité
decision-only-one = sub-sector { $subsector }: only { $actor } ({ $share } { $denominator }) among { $actors } holds land, the rule needs two → gestion selon la domanialité
decision-delegated = sub-sector { $subsector }: { $actor } holds { $share } { $denominator } > { $threshold } ({ $figures }) → delegated to { $actor }
decision-shared = sub-sector { $subsector }: shared ({ $figures } { $denominator }), no actor above { $threshold } → gestion selon la domanialité, convention needed
decision-unchanged = { $decision }; { $share } of the land ({ $area }) has an undetermined owner, which cannot change this
decision-undecided = sub-sector { $subsector }: { $share } of the land ({ $area }) has an undetermined owner (no owner file covers its commune, or no rule classifies the owner); as it stands { $outcome }, but { $flips } → undecided: load the owner file or classify the owner first; meanwhile each space is managed by its owner
decision-flip = held by { $who }, { $outcome }
outcome-delegated = delegated to { $actor }
outcome-convention = gestion selon la domanialité with a convention needed
outcome-domanialite = gestion selon la domanialité
outcome-undecided = undecided

## Who manages a space, and why

manager-parcel = { $decision }; parcel { $idu } is held by { $actor }
manager-non-cadastre = { $decision }; non-cadastré space → public domain, { $actor }
convention-period = { $from }–{ $to }
convention-period-open = { $from }–…
rule-convention = { $manager }; convention { $id } ({ $parties }, { $period }) gives { $kind } to { $service }{ $prevails }{ $expired }
rule-convention-prevails = {" "}(it prevails over { $others }: it started last)
rule-convention-expired = ; not in force on { $date }: { $ids }
rule-fixed = { $kind } always goes to { $service } ({ $reason })
rule-default = { $manager }; { $kind } → default service of { $actor }: { $service }
rule-unknown-owner = { $manager }; the owner is { $actor } ({ $label }): no manager can be named for { $kind } until it is known
rule-no-service = { $manager }; no service configured for { $actor } and { $kind }
