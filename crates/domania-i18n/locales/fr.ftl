# Messages de Domania en français (la langue par défaut). Chaque message existe aussi dans
# en.ftl : un test le vérifie. Les nombres, surfaces et dates arrivent déjà écrits.

parcels-count = { $count ->
    [one] { $count } parcelle
   *[other] { $count } parcelles
}

## Les décisions de la règle des 60 % et leurs raisons

denominator-subsector = de la surface du sous-secteur
denominator-cadastre = du sol cadastré
decision-outside = hors de tout sous-secteur : gestion selon la domanialité
decision-none-holds = sous-secteur { $subsector } : aucun des acteurs de la règle ({ $actors }) n’y possède de terrain → gestion selon la domanialité
decision-only-one = sous-secteur { $subsector } : seul l’acteur « { $actor } » ({ $share } { $denominator }) y possède du terrain parmi { $actors }, la règle en demande deux → gestion selon la domanialité
decision-delegated = sous-secteur { $subsector } : « { $actor } » possède { $share } { $denominator }, plus de { $threshold } ({ $figures }) → gestion déléguée à « { $actor } »
decision-shared = sous-secteur { $subsector } : terrain partagé ({ $figures } { $denominator }), aucun acteur au-dessus de { $threshold } → gestion selon la domanialité, une convention est à établir
decision-unchanged = { $decision } ; { $share } du terrain ({ $area }) a un propriétaire indéterminé, ce qui ne peut pas changer la décision
decision-undecided = sous-secteur { $subsector } : { $share } du terrain ({ $area }) a un propriétaire indéterminé (aucun fichier des propriétaires ne couvre sa commune, ou aucune règle ne classe ce propriétaire) ; en l’état, { $outcome }, mais { $flips } → décision suspendue : chargez le fichier des propriétaires ou classez le propriétaire ; en attendant, chaque espace est géré par son propriétaire
decision-flip = si ce terrain était à { $who }, { $outcome }
outcome-delegated = gestion déléguée à « { $actor } »
outcome-convention = gestion selon la domanialité avec une convention à établir
outcome-domanialite = gestion selon la domanialité
outcome-undecided = décision suspendue

## Qui gère un espace, et pourquoi

manager-parcel = { $decision } ; la parcelle { $idu } appartient à l’acteur « { $actor } »
manager-non-cadastre = { $decision } ; espace non cadastré → domaine public, « { $actor } »
convention-period = du { $from } au { $to }
convention-period-open = à partir du { $from }
rule-convention = { $manager } ; la convention { $id } ({ $parties }, { $period }) confie { $kind } à { $service }{ $prevails }{ $expired }
rule-convention-prevails = {" "}(elle prime sur { $others } : elle a pris effet en dernier)
rule-convention-expired =  ; pas en vigueur le { $date } : { $ids }
rule-fixed = { $kind } : toujours { $service } ({ $reason })
rule-default = { $manager } ; { $kind } → service par défaut de l’acteur « { $actor } » : { $service }
rule-unknown-owner = { $manager } ; le propriétaire est indéterminé ({ $label }) : aucun gestionnaire ne peut être désigné pour { $kind } tant qu’il n’est pas connu
rule-no-service = { $manager } ; aucun service n’est configuré pour l’acteur « { $actor } » et { $kind }
