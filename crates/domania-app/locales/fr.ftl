# Messages de Domania en français (la langue par défaut). Chaque message existe aussi dans
# en.ftl : un test le vérifie. Les nombres, surfaces et dates arrivent déjà écrits.

parcels-count = { $count ->
    [one] { $count } parcelle
   *[other] { $count } parcelles
}
