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
rule-indivision-convention = { $manager } ; la parcelle est en indivision entre propriétaires de natures différentes et aucune règle ne dit qui intervient : une convention entre les co-indivisaires doit désigner le service chargé de { $kind }

## Les erreurs : une phrase par code (le code, lui, ne change jamais avec la langue)

code-store_missing = Il n’y a pas de magasin de données à cet endroit.
code-not_a_store = Ce fichier n’est pas un magasin de données Domania.
code-store_busy = Le magasin de données est occupé par une autre opération ; réessayez dans un instant.
code-store_read_only = Le magasin de données ne peut pas être modifié ici.
code-store_corrupt = Le magasin de données est endommagé.
code-database = La base de données a rencontré une erreur.
code-store_changed = Les données ont changé pendant l’opération (un autre import) ; recommencez.
code-no_such_version = Cette couche n’a pas cette version.
code-scope_refused = Le périmètre de l’import ne convient pas à cette couche ou à ce fichier.
code-import_refused = Les contrôles de sécurité refusent cet import ; rien n’a changé.
code-duplicate_key = Deux lignes du même import ont le même identifiant.
code-file_unreadable = Le fichier ne peut pas être lu.
code-invalid_file = Le fichier est mal formé.
code-wrong_kind = Le fichier n’est pas du type attendu pour cette couche.
code-unknown_crs = Le système de coordonnées du fichier est inconnu.
code-features_rejected = Des objets du fichier sont refusés ; rien n’a été importé.
code-invalid_config = Le fichier de configuration n’est pas valide.
code-invalid_argument = Une valeur donnée n’est pas valide.
code-not_found = Ce qui est demandé n’existe pas.
code-layer_missing = Une couche nécessaire n’a pas encore été importée.
code-invalid_scenario = Le scénario ne peut pas être appliqué.
code-name_taken = Ce nom est déjà pris.
code-unauthorized = Il faut un jeton d’accès valide.
code-forbidden = Votre jeton ne permet pas cette opération.
code-outside_territory = Le point est hors du territoire connu.
code-refused = Ce changement n’est pas permis dans l’état actuel.
code-bad_parameter = Un paramètre de la demande n’est pas valide.
code-unknown_parameter = Un paramètre de la demande est inconnu.
code-bad_point = Le point doit être donné en longitude et latitude, ou en x et y.
code-outside_france = Le point est hors de la France métropolitaine.
code-unknown_kind = Ce type d’intervention n’existe pas dans les règles.
code-bad_idu = Ce n’est pas un identifiant de parcelle (IDU de 14 caractères).
code-bad_section = Ce n’est pas une section cadastrale (AB, ou commune et section : 75118AB).
code-bad_bbox = L’emprise doit être quatre nombres, le minimum avant le maximum.
code-bad_crs = Ce système de coordonnées n’est pas servi.
code-bad_limit = Le nombre demandé (limit) est hors des bornes.
code-bad_offset = Le décalage (offset) doit être positif ou nul.
code-bad_format = Ce format de réponse n’est pas proposé.
code-bad_tile = Cette tuile n’existe pas.
code-bad_scenario = Le scénario envoyé ne se lit pas.
code-bad_rules = Les règles envoyées ne se lisent pas.
code-bad_token = La demande de jeton ne se lit pas.
code-bad_upload = Le fichier envoyé ne se lit pas.
code-empty_upload = La demande ne contient aucun fichier.
code-upload_too_large = Le fichier envoyé est trop gros.
code-not_importable = Cette couche est calculée, elle ne s’importe pas.
code-bad_scope = Le périmètre demandé ne se lit pas.
code-bad_versions = Les versions demandées ne se lisent pas.
code-bad_rollback = La demande de retour en arrière ne se lit pas.
code-bad_body = Le contenu de la demande ne se lit pas.
code-unsupported_media_type = Ce type de contenu n’est pas accepté ici.
code-method_not_allowed = Cette adresse ne répond pas à cette méthode.
code-timeout = La demande a pris trop de temps ; rien n’a changé.
code-busy = Le serveur est occupé ; réessayez dans un instant.
code-bad_text = Un texte contient un caractère qui ne peut pas être enregistré, ou il est trop long.
code-internal = Une erreur interne s’est produite ; le journal du serveur en donne le détail.
error-detail = { $sentence } Détail : { $detail }
error-word = erreur

## Les erreurs dites précisément

error-no-parcel = La parcelle { $idu } n’est pas dans les données.
error-no-subsector = Le sous-secteur « { $id } » n’existe pas dans les données.
error-no-qpv = Le quartier prioritaire « { $code } » n’existe pas dans les données (par exemple : { $known }).
error-no-collection = La collection « { $id } » n’existe pas (collections : { $known }).
error-no-feature = L’objet « { $fid } » n’existe pas dans la collection « { $id } ».
error-no-tile-layer = La couche de tuiles « { $name } » n’existe pas (couches : { $known }).
error-no-tile = La tuile { $z }/{ $x }/{ $y } n’existe pas (zoom de 0 à { $max }).
error-no-glyphs = Pas de glyphes « { $stack } / { $range } » : une plage s’écrit DÉBUT-FIN.pbf, DÉBUT multiple de 256 inférieur à 65536.
error-no-font = Ce serveur a été compilé sans la police des étiquettes de la carte (installée par npm à la compilation) : la carte s’affiche sans noms de rues ni de sections.
error-token-binding = « { $binding } » : un jeton se lie à un service (service:IDENTIFIANT, l’identifiant du service dans les règles) ou à un acteur (actor:ACTEUR, parmi { $actors }).
error-not-your-report = Le signalement { $id } n’est pas routé vers ce que ce jeton sert ({ $bound }) : seul son service (ou un jeton non lié, la DVQ) peut le faire avancer.
error-basemap-url = Le fond de plan « { $url } » n’est pas une adresse http(s) : donnez des tuiles raster (https://tuiles.exemple.fr/{"{"}z{"}"}/{"{"}x{"}"}/{"{"}y{"}"}.png, ou le WMTS du Plan IGN) ou un style MapLibre (https://…/style.json).
error-basemap-missing = Le fond de plan « { $url } » : { $missing } manque (le zoom, la colonne et la ligne de la tuile ; sans aucun des trois, c’est l’adresse d’un style MapLibre).
error-no-request = Le signalement { $id } n’existe pas.
error-no-token = Aucun jeton actif ne s’appelle « { $name } ».
error-unknown-kind = Le type d’intervention « { $kind } » n’existe pas (types : { $known }).
error-layer-missing = Les données n’ont pas encore la couche { $layer } : importez-la d’abord.
error-outside-france = Le point ({ $lon }, { $lat }) est hors de la France métropolitaine, où le Lambert-93 est défini.
error-outside-territory = Aucune parcelle ni aucun sous-secteur à moins de { $metres } m du point : il est hors du territoire.
error-limit = Le nombre demandé (limit) doit être entre 1 et { $max }.
error-offset = Le décalage (offset) doit être positif ou nul.
error-text-long = Le champ « { $name } » a { $chars } caractères ; { $max } au plus.
error-text-nul = Le champ « { $name } » contient un caractère NUL (U+0000), qui ne peut pas être enregistré : retirez-le et envoyez de nouveau.
error-bad-date = « { $text } » n’est pas une date : attendu AAAA-MM-JJ, par exemple 2025-06-01.
error-features-rejected = { $file } : { $count ->
    [one] un objet ou une ligne est refusé
   *[other] { $count } objets ou lignes sont refusés
} ; rien n’a été importé. { $ui ->
    [web] Corrigez le fichier et envoyez-le de nouveau, ou cochez « Importer les objets valides et écarter les autres ».
   *[cli] Corrigez le fichier, ou ajoutez --skip-invalid pour importer le reste.
}
error-upload-too-large = Le fichier envoyé dépasse les { $mb } Mo que le serveur accepte ; rien n’a changé.
error-upload-empty = La demande ne contient aucun fichier : envoyez le fichier comme contenu de la demande.
error-not-importable = La couche { $layer } est calculée par Domania, elle ne s’importe pas.
code-not_editable = Cette couche ne se modifie pas objet par objet.
code-feature_changed = L’objet a changé depuis que vous l’avez chargé.
code-feature_exists = Un objet de cette clé existe déjà.
code-bad_feature = L’objet envoyé ne se lit pas.
error-not-editable = La couche { $layer } vient de la DGFiP, d’Etalab ou de la BAN : elle ne se modifie pas objet par objet, elle s’importe en entier depuis sa source.
error-feature-changed = L’objet « { $fid } » a changé depuis que vous l’avez chargé : rechargez-le, puis refaites votre modification ; rien n’a changé.
edits-absorbed = Les modifications enregistrées dans QGIS sur la couche { $layer } en font la version { $version }.
edits-refused = Les modifications enregistrées dans QGIS sur la couche { $layer } sont refusées, et la couche remise comme elle était : { $why }
edits-waiting = des modifications enregistrées dans QGIS attendent de devenir une version : { $why }
error-layer-moved = La couche { $layer } a été modifiée par quelqu’un d’autre pendant votre modification : rechargez-la, puis refaites votre modification ; rien n’a changé.
error-feature-exists = Un objet de clé « { $fid } » existe déjà dans la couche { $layer } : modifiez-le, ou choisissez une autre clé ; rien n’a changé.
error-media-type = Le contenu envoyé est de type « { $got } » ; cette adresse prend { $expected }.
error-feature-json = Le contenu envoyé n’est pas un objet GeoJSON (« type »: « Feature ») ; rien n’a changé.
error-feature-geometry = L’objet envoyé n’a pas de géométrie Polygon ou MultiPolygon ; rien n’a changé.
error-feature-coordinates = Les coordonnées de l’objet envoyé ne sont pas des longitudes et latitudes (CRS84) ; rien n’a changé.
error-feature-key = L’objet envoyé n’a pas de clé : donnez-la dans « id » ; rien n’a changé.
error-feature-key-changed = La clé d’un objet ne se modifie pas : supprimez-le et créez-en un autre ; rien n’a changé.
error-edit-rejected = La modification de l’objet « { $fid } » est refusée (le détail suit) ; rien n’a changé.
error-upload-busy = Un autre envoi est en cours d’import ; réessayez dans un instant.
error-scenarios-busy = Le serveur calcule d’autres scénarios ; réessayez dans un instant.
error-needs-token = Cette opération demande un jeton du rôle « { $role } ».
error-wrong-role = Le jeton « { $name } » a le rôle « { $has } » ; cette opération demande le rôle « { $role } ».
error-unknown-token = Jeton inconnu ou révoqué.
error-no-route = Cette adresse n’existe pas (voir /api).
error-no-method = Cette adresse ne répond pas à cette méthode (voir /api).
error-too-slow = La demande a pris plus de temps que le serveur n’en accorde ; rien n’a changé.
error-body-paused = L’envoi s’est interrompu plus longtemps que le serveur n’attend ; rien n’a changé.
error-internal = Une erreur interne s’est produite ; le journal du serveur en donne le détail.
error-store-missing = Il n’y a pas de magasin de données ici ({ $path }). { $ui ->
    [web] Demandez à l’administrateur de le créer.
   *[cli] Vérifiez --store ; « domania init » ou un premier import en crée un.
}
error-store-busy = Les données sont occupées par une autre opération ({ $holder }) ; abandon après { $seconds } s. { $ui ->
    [web] Réessayez dans un instant.
   *[cli] Augmentez --wait pour attendre plus longtemps.
}
error-no-version = La couche « { $layer } » n’a pas de version { $version } (la dernière : { $latest }).
error-duplicate-key = Deux lignes du même import ont l’identifiant « { $key } » dans la couche « { $layer } ».
error-scope-not-allowed = La couche « { $layer } » ne s’importe pas par « { $scope } » (elle s’importe par : { $allowed }).
error-out-of-scope = La ligne « { $key } » est hors du périmètre déclaré « { $scope } ».
error-empty-import = Rien à importer dans « { $layer } » : le fichier ne contient aucune ligne ; un fichier vide ne vide jamais une couche. { $ui ->
    [web] Vérifiez que vous avez choisi le bon fichier.
   *[cli] Pour vider une partie de la couche à dessein, donnez --scope TYPE=CODES avec --force.
}
error-too-many-removed = Cet import retirerait { $details } (limite : { $limit } d’un périmètre). { $ui ->
    [web] Si c’est bien ce que vous voulez, cochez « Accepter que la nouvelle version retire beaucoup d’objets » et envoyez de nouveau.
   *[cli] Si c’est bien ce que vous voulez, ajoutez --force (ou augmentez --max-removed).
}
error-token-taken = Un jeton nommé « { $name } » existe déjà (révoquez-le ou choisissez un autre nom).
error-not-a-store = { $path } n’est pas un magasin de données Domania.

## Les rapports de lecture d’un fichier

report-feature = objet { $n }
report-line = ligne { $n }
severity-warning = avertissement
severity-repaired = réparé
severity-rejected = refusé
issue-bad_coordinates = les coordonnées ne sont pas des nombres valides
issue-empty_geometry = la géométrie est vide
issue-invalid_geometry = la géométrie n’est pas valide (contour qui se recoupe ou anneau mal formé)
issue-missing_geometry = l’objet n’a pas de géométrie
issue-wrong_geometry_type = la géométrie n’est pas un polygone
issue-unclosed_ring = un contour n’était pas fermé ; il a été fermé
issue-transform_failed = la géométrie n’a pas pu être convertie en Lambert-93
issue-duplicate_idu = cet IDU apparaît déjà plus haut dans le fichier
issue-missing_idu = l’objet n’a pas d’IDU (identifiant de parcelle)
issue-invalid_idu = l’IDU n’est pas un identifiant de parcelle de 14 caractères
issue-negative_contenance = la contenance est négative
issue-nul_character = un champ contient un caractère NUL (U+0000), qui ne peut pas être enregistré : retirez-le du fichier
issue-wrong_property_type = un attribut n’a pas le type attendu (texte ou nombre)
issue-field_too_large = un champ est trop long pour être enregistré
issue-missing_key = l’objet n’a pas d’identifiant (code)
issue-invalid_qpv_code = le code du quartier prioritaire n’est pas de la forme QN0780001
issue-duplicate_key = cet identifiant apparaît déjà plus haut dans le fichier
issue-overlapping_subsectors = ce sous-secteur en chevauche un autre
issue-column_count = la ligne n’a pas le nombre de colonnes de l’en-tête
issue-missing_right = le code droit est vide
issue-missing_owner = ni SIREN ni nom de propriétaire
issue-invalid_groupe = le groupe de personne ne commence pas par un chiffre de 0 à 9
issue-on_two_sheets = la parcelle est aussi sur une feuille précédente : ses morceaux sont réunis
issue-area_gap = écart entre la surface dessinée et la contenance fiscale (SUPF)
issue-record_count_mismatch = le nombre de formes et le nombre de lignes du fichier .dbf diffèrent
issue-other = problème « { $code } »
removal-part = { $kind ->
    [layer] la couche { $code }
    [commune] la commune { $code }
    [departement] le département { $code }
   *[other] { $kind } { $code }
} : { $removed } de ses { $current } objets ({ $percent })
report-more = … et { $count ->
    [one] 1 autre problème
   *[other] { $count } autres problèmes
}
error-bad-idu = « { $text } » n’est pas un identifiant de parcelle : un IDU a 14 caractères, commune (5), préfixe (3), section (2) et numéro (4), par exemple 78005000AB0187.

## Les couches

layer-parcels = des parcelles
layer-owners = des propriétaires
layer-qpv = des quartiers prioritaires
layer-subsectors = des sous-secteurs
layer-conventions = des conventions
layer-spaces = des espaces

## Les colonnes des tableaux (CSV pour un tableur) et leurs valeurs

column-actor = acteur
column-after = après
column-area_m2 = surface (m²)
column-counted_m2 = surface comptée une fois (m²)
column-overlaps = chevauche les sous-secteurs
column-before = avant
column-by = par
column-confidence = fiabilité
column-contenance_m2 = contenance (m²)
column-decided_by = décidé par
column-done = traités
column-duplicates = doublons
column-email = courriel
column-forme = forme juridique
column-group = groupe
column-groupe = groupe de personne
column-id = identifiant
column-idu = IDU
column-intervention = intervention
column-kind = type
column-managed_m2 = surface gérée (m²)
column-median_hours = délai médian (heures)
column-month = mois
column-name = nom
column-open = en cours
column-owner_actor = acteur propriétaire
column-owner_file = fichier des propriétaires
column-owner_name = propriétaire
column-owners = propriétaires
column-p90_hours = délai du 9e décile (heures)
column-parcels = parcelles
column-perimeter_area_m2 = surface du périmètre (m²)
column-perimeter_id = périmètre
column-phone = téléphone
column-qpv = QPV
column-qpv_id = QPV
column-qpv_name = nom du QPV
column-requested_at = signalé le
column-requests = signalements
column-service = service
column-service_code = catégorie
column-service_id = identifiant du service
column-service_name = service
column-share_of_cadastre = part du sol cadastré
column-share_of_area = part de la surface
column-gap_m2 = écart (m²)
column-siren = SIREN
column-space = espace
column-status = statut
column-subsector = sous-secteur
column-subsector_id = sous-secteur
column-table = table
column-urgency = urgence
column-who = qui
column-why = pourquoi
column-within_level = part dans le délai
column-backlog = en attente
column-bailleur = bailleur
column-rule = règle
column-explanation = explication
column-description = description
column-commune = commune
column-lat = latitude
column-long = longitude
column-media_url = photo
column-duplicate_of = doublon de
column-expected_at = attendu le
column-updated_at = mis à jour le
column-status_notes = notes
column-reporter = signalé par
column-source = source
value-status-received = reçu
value-status-acknowledged = pris en compte
value-status-planned = planifié
value-status-in_progress = en cours
value-status-done = traité
value-status-rejected = refusé
value-status-transferred = transmis
value-status-duplicate = doublon
value-urgency-normal = normale
value-urgency-review = à vérifier
value-urgency-urgent = urgente
value-rule-default = service par défaut
value-rule-fixed = service fixe
value-rule-convention = convention
value-rule-unassigned = non attribué
value-by-qpv = QPV
value-by-commune = commune
value-by-service = service
error-walk-header = { $file } : l’en-tête doit nommer les colonnes de longitude (lon ou longitude), de latitude (lat ou latitude) et de catégorie (categorie ou category).

## Ce que la ligne de commande annonce

report-summary = { $file } : { $read } lus, { $accepted } acceptés (dont { $repaired } réparés), { $rejected } refusés, { $warnings } avertissements
version-unchanged = Couche { $layer } : inchangée, toujours la version { $version } ({ $features } objets de « { $scope } » identiques aux données)
version-written = Couche { $layer }, version { $version } ({ $kind }, « { $scope } ») : { $features } objets, { $added } ajoutés, { $removed } retirés, { $changed } modifiés (dont { $reshaped } redessinés), { $rejected } refusés, { $repaired } réparés
warning-overlaps = avertissement : { $count } paires de parcelles se chevauchent ({ $total } en tout, la plus grande { $a }/{ $b } : { $largest }) ; chaque chevauchement n’est compté qu’une fois
demo-land = Terrain par acteur (surfaces en Lambert-93), données { $store } :
demo-actor = acteur
demo-parcels = parcelles
demo-area = surface (m²)
demo-share = part
demo-management = Gestion ({ $rules }) : { $subsectors } sous-secteurs, dont { $conventions } à conventionner ; { $spaces } espaces attribués par type d’intervention
demo-delegated = gestion déléguée :
demo-conventions = convention à établir :
demo-details = (le détail : domania assign --rules { $rules } ; domania shares)
demo-done = terminé en { $seconds } s
scope-layer = toute la couche

## La carte : ses styles et les décisions des sous-secteurs

style-managers = Qui gère : { $kind }
style-owners = Qui possède
style-decisions = Mode de gestion des sous-secteurs
style-convention-needed = contour épais : une convention est à établir
decision-label-delegated = Gestion déléguée : { $actor }
decision-label-domanialite = Gestion selon la domanialité
decision-label-undecided = Indécis : propriétaire inconnu d’une part du sol
actor-communaute_urbaine = Communauté urbaine (EPCI)
actor-commune = Commune
actor-bailleur_social = Bailleur social
actor-etat = État
actor-departement = Département
actor-region = Région
actor-etablissement_public = Établissement public
actor-sem = Société d'économie mixte
actor-copropriete = Copropriété
actor-other_legal_person = Autre personne morale
actor-private = Personnes physiques
actor-indivision = Indivision entre acteurs
actor-unknown = Personne morale non classée
actor-owner_unknown = Propriétaire inconnu (aucun fichier des propriétaires)
search-parcel = Parcelle { $idu } ({ $actor }) — { $commune }
search-subsector = Sous-secteur
search-commune = Commune { $commune } — { $count ->
    [one] 1 parcelle
   *[other] { $count } parcelles
}
search-section = Section { $section } de { $commune } — { $count ->
    [one] 1 parcelle
   *[other] { $count } parcelles
}
search-owner-dgfip = { $name } (identifiant DGFiP { $siren }) — { $count ->
    [one] 1 parcelle
   *[other] { $count } parcelles
}
search-owner-group = { $name } — { $owners } propriétaires de ce nom — { $count ->
    [one] 1 parcelle
   *[other] { $count } parcelles
}
search-owner = { $name } — { $count ->
    [one] 1 parcelle
   *[other] { $count } parcelles
}
search-owner-siren = { $name } (SIREN { $siren }) — { $count ->
    [one] 1 parcelle
   *[other] { $count } parcelles
}
search-address = { $address }, { $commune } — { $source }
search-street = { $street }, { $commune } — { $count ->
    [one] 1 adresse
   *[other] { $count } adresses
} ({ $source })
address-source-ban = Base Adresse Nationale
address-source-ppm = fichier des propriétaires personnes morales, DGFiP
error-open311-format = { $file } : cette API répond en JSON ou en XML (un nom finissant par .json ou .xml).
error-attribute-unknown = attribute[{ $code }] n’est pas un attribut de la catégorie { $service } (attributs : { $known }).
error-attribute-value = attribute[{ $code }] = « { $value } » : la valeur est true ou false.
error-address-unplaced = L’adresse « { $address } » ne se place pas : aucune adresse de ce numéro n’est connue (Base Adresse Nationale, ou adresses du fichier des propriétaires) ; donnez lat et long, ou une adresse avec son numéro.
error-photo-too-large = La photo « { $name } » dépasse les { $mb } Mo acceptés ; réduisez-la ou envoyez-en une autre.
error-photo-type = Le fichier « { $name } » n’est pas une photo JPEG, PNG, WebP ou HEIC (son contenu a été lu, pas son nom) ; envoyez une photo dans l’un de ces formats.
error-photo-unreadable = La photo « { $name } » ne se lit pas ({ $reason }) ; envoyez-la de nouveau, ou une autre.
error-no-photo = Le signalement { $id } n’a pas de photo envoyée avec lui.
error-photo-no-thumbnail = La photo du signalement { $id } est au format HEIC, dont Domania ne fait pas de vignette : ouvrez la photo elle-même.
error-photo-one = Une seule photo (media) par signalement.

## Les courriels des signalements

mail-service-subject = [Signalement { $id }] { $category } — à traiter par { $service }
mail-service-body = Bonjour,

    Un signalement vous est adressé.

    Catégorie : { $category }
    Signalé le : { $at }
    Description : { $description }
    Photo : { $photo }
    Lieu : { $lat }, { $lon } (sous-secteur { $subsector }, commune { $commune })
    Carte : https://www.openstreetmap.org/?mlat={ $lat }&mlon={ $lon }#map=19/{ $lat }/{ $lon }
    Pourquoi vous : { $why }

    Le signalement et ses étapes : { $link }

    — Domania, gestion urbaine de proximité
mail-received-subject = [Signalement { $id }] Votre signalement est reçu
mail-received-body = Bonjour,

    Votre signalement « { $category } » du { $at } est reçu. Il est adressé à { $service }, qui gère cet espace.

    Statut : { $status }
    { $note }

    Vous serez informé de chacune de ses étapes. Le suivre : { $link }

    — Domania, gestion urbaine de proximité
mail-change-subject = [Signalement { $id }] { $category } : { $status }
mail-change-body = Bonjour,

    Le signalement { $id } « { $category } » est passé au statut « { $status } » le { $at }.
    { $note }

    Service en charge : { $service }
    Lieu : { $lat }, { $lon } (commune { $commune })
    Le suivre : { $link }

    — Domania, gestion urbaine de proximité
mail-alert-subject = [Signalement { $id }] Droit d’alerte : { $category }, à traiter en urgence
mail-alert-body = Bonjour,

    La DVQ exerce son droit d’alerte sur le signalement { $id } « { $category } » ({ $at }) : il est à traiter en urgence.
    Pourquoi : { $note }

    Service en charge : { $service }
    Description : { $description }
    Photo : { $photo }
    Lieu : { $lat }, { $lon } (sous-secteur { $subsector }, commune { $commune })
    Carte : https://www.openstreetmap.org/?mlat={ $lat }&mlon={ $lon }#map=19/{ $lat }/{ $lon }
    Le signalement et ses étapes : { $link }

    — Domania, gestion urbaine de proximité
error-alert-reason = Le droit d’alerte se motive : donnez la raison (note).
update-alert = Droit d’alerte de la DVQ : à traiter en urgence.
deliveries-replayed = { $count ->
    [one] 1 message abandonné est remis dans la file
   *[other] { $count } messages abandonnés sont remis dans la file
}
column-report_id = signalement
column-role = rôle
column-recipient = destinataire
column-attempts = essais
column-next_at = prochain essai
column-sent_at = envoyé le
column-last_error = dernière erreur
column-note = note
column-at = le
error-no-smtp = DOMANIA_SMTP_URL n’est pas défini : les courriels restent dans la file (les webhooks sont envoyés) ; par exemple smtp://localhost:25
code-rate_limited = Trop de signalements envoyés d’un coup ; réessayez dans un instant.
error-rate-limited = Trop de signalements envoyés en peu de temps ({ $who }) : au plus { $rate } par minute ; réessayez dans { $seconds } s.
rule-category-direct = les signalements « { $category } » vont directement à { $service }, où qu’ils soient (règle de la catégorie)
value-rule-category = catégorie
note-urgency-review = déclaré urgent sans aucun des critères de la catégorie : à vérifier
note-duplicate = doublon du signalement { $id } (à { $metres } m, fait le { $at }), qui le couvre
import-partly-covered = Attention : les fichiers des propriétaires chargés ne couvrent qu’en partie { $communes } (une partie du fichier du département manque) : leurs parcelles sans ligne de propriétaire sont de propriétaire inconnu, non des personnes physiques, jusqu’à l’import de la partie qui manque (ou de toutes les parties ensemble ; la dernière partie du fichier avec --last-part).
notice-duplicate = déjà signalé : le signalement { $id } le couvre
notice-urgency-review = déclaré urgent sans critère objectif : vérifié avant d’être priorisé
notice-urgent = urgent
