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
rule-indivision-convention = { $manager }; the parcel is held in indivision by owners of different kinds and no rule says who acts: a convention between the co-owners must name the service in charge of { $kind }

## Errors: one sentence per code (the code itself never changes with the language)

code-store_missing = There is no store here.
code-not_a_store = This file is not a Domania store.
code-store_busy = The store is busy with another operation; try again in a moment.
code-store_read_only = The store cannot be written here.
code-store_corrupt = The store is damaged.
code-database = The database failed.
code-store_changed = The data changed during the operation (another import); do it again.
code-no_such_version = The layer has no such version.
code-scope_refused = The import's scope does not fit the layer or the file.
code-import_refused = The safety checks refuse this import; nothing changed.
code-duplicate_key = Two rows of one import have the same key.
code-file_unreadable = The file cannot be read.
code-invalid_file = The file is not well-formed.
code-wrong_kind = The file is not what this layer takes.
code-unknown_crs = The file's coordinate reference system is unknown.
code-features_rejected = Features of the file were rejected; nothing was imported.
code-invalid_config = The configuration file is invalid.
code-invalid_argument = A value given is invalid.
code-not_found = What was asked for does not exist.
code-layer_missing = A layer this needs has not been imported yet.
code-invalid_scenario = The scenario cannot be applied.
code-name_taken = The name is already in use.
code-unauthorized = This needs a valid token.
code-forbidden = Your token does not allow this.
code-outside_territory = The point is outside the territory.
code-refused = This change is not allowed in the current state.
code-bad_parameter = A parameter of the request is invalid.
code-unknown_parameter = A parameter of the request is unknown.
code-bad_point = A point is given as longitude and latitude, or as x and y.
code-outside_france = The point is outside metropolitan France.
code-unknown_kind = The rules define no such intervention kind.
code-bad_idu = Not a parcel identifier (a 14-character IDU).
code-bad_section = Not a cadastral section (AB, or commune and section: 75118AB).
code-bad_bbox = A bbox is four numbers, min before max.
code-bad_crs = This CRS is not served.
code-bad_limit = The limit is out of range.
code-bad_offset = The offset must be 0 or more.
code-bad_format = The answer does not come in this format.
code-bad_tile = No such tile.
code-bad_scenario = The scenario sent does not parse.
code-bad_rules = The rules sent do not parse.
code-bad_token = The token request does not parse.
code-bad_upload = The file sent cannot be read.
code-empty_upload = The request holds no file.
code-upload_too_large = The file sent is too large.
code-not_importable = This layer is computed, not imported.
code-bad_scope = The scope does not parse.
code-bad_versions = The versions do not parse.
code-bad_rollback = The rollback request does not parse.
code-bad_body = The request's body does not parse.
code-unsupported_media_type = This media type is not taken here.
code-method_not_allowed = This route does not answer this method.
code-timeout = The request took too long; nothing changed.
code-busy = The server is busy; try again in a moment.
code-bad_text = A text holds a character that cannot be stored, or is too long.
code-internal = An internal error; the server's log has the details.
error-detail = { $sentence } Detail: { $detail }
error-word = error

## Errors said precisely

error-no-parcel = Parcel { $idu } is not in the store.
error-no-subsector = No sub-sector "{ $id }" in the store.
error-no-qpv = No QPV "{ $code }" in the store (some codes: { $known }).
error-no-collection = No collection "{ $id }" (collections: { $known }).
error-no-feature = No feature "{ $fid }" in { $id }.
error-no-tile-layer = No tile layer "{ $name }" (layers: { $known }).
error-no-tile = No tile { $z }/{ $x }/{ $y } (zoom 0 to { $max }, x and y below 2^z).
error-no-glyphs = No glyphs "{ $stack } / { $range }": a range is START-END.pbf, START a multiple of 256 below 65536.
error-no-font = This server was built without the map labels' font (installed by npm at build time): the map shows no street or section names.
error-token-binding = "{ $binding }": a token is bound to a service (service:ID, the service's id in the rules) or to an actor (actor:ACTOR, one of { $actors }).
error-not-your-report = Request { $id } is not routed to what this token is bound to ({ $bound }): only its service (or an unbound token, the DVQ) can move it.
error-basemap-url = The basemap "{ $url }" is not an http(s) URL: give raster tiles (https://tile.example.org/{"{"}z{"}"}/{"{"}x{"}"}/{"{"}y{"}"}.png, or Plan IGN's WMTS) or a MapLibre style (https://…/style.json).
error-basemap-missing = The basemap "{ $url }": { $missing } is missing (the tile's zoom, column and row; with none of the three, it is the URL of a MapLibre style).
error-no-request = No request { $id }.
error-no-token = No live token named "{ $name }".
error-unknown-kind = Unknown intervention kind "{ $kind }" (kinds: { $known }).
error-layer-missing = The store has no { $layer } layer yet: import one first.
error-outside-france = The point ({ $lon }, { $lat }) is outside metropolitan France, where Lambert-93 is defined.
error-outside-territory = No parcel nor sub-sector within { $metres } m of the point: it is outside the territory.
error-limit = limit must be between 1 and { $max }.
error-offset = offset must be 0 or more.
error-text-long = { $name } has { $chars } characters; at most { $max }.
error-text-nul = { $name } holds a NUL character (U+0000), which cannot be stored: remove it and send it again.
error-bad-date = "{ $text }" is not a date: expected YYYY-MM-DD, e.g. 2025-06-01.
error-features-rejected = { $file }: { $count ->
    [one] one feature or line rejected
   *[other] { $count } features or lines rejected
}; nothing was imported. { $ui ->
    [web] Correct the file and send it again, or tick "Import the valid features and leave out the others".
   *[cli] Correct the file, or use --skip-invalid to import the rest.
}
error-upload-too-large = The upload is larger than the { $mb } MB the server takes; nothing was changed.
error-upload-empty = The request has no body: send the file as the body.
error-not-importable = The { $layer } layer is computed, not uploaded.
code-not_editable = This layer is not edited feature by feature.
code-feature_changed = The feature changed since you loaded it.
code-feature_exists = A feature with this key exists already.
code-bad_feature = The feature sent does not read.
error-not-editable = The { $layer } layer comes from the DGFiP, Etalab or the BAN: it is not edited feature by feature, it is imported whole from its source.
error-feature-changed = The feature “{ $fid }” changed since you loaded it: load it again, then redo your change; nothing changed.
edits-absorbed = The edits saved in QGIS into the { $layer } layer are its version { $version }.
edits-refused = The edits saved in QGIS into the { $layer } layer are refused, and the layer is back as it was: { $why }
edits-waiting = edits saved in QGIS wait to become a version: { $why }
error-layer-moved = The { $layer } layer was changed by someone else during your change: load it again, then redo your change; nothing changed.
error-feature-exists = A feature with key “{ $fid }” exists already in the { $layer } layer: edit it, or choose another key; nothing changed.
error-media-type = The body sent is “{ $got }”; this address takes { $expected }.
error-feature-json = The body is not a GeoJSON feature ("type": "Feature"); nothing changed.
error-feature-geometry = The feature sent has no Polygon or MultiPolygon geometry; nothing changed.
error-feature-coordinates = The feature's coordinates are not longitudes and latitudes (CRS84); nothing changed.
error-feature-key = The feature sent has no key: give it in "id"; nothing changed.
error-feature-key-changed = A feature's key is not edited: delete it and create another; nothing changed.
error-edit-rejected = The change to the feature “{ $fid }” is refused (details follow); nothing changed.
error-upload-busy = Another upload is being imported: try again in a moment.
error-scenarios-busy = The server is computing other scenarios: try again in a moment.
error-needs-token = This needs a token with the { $role } role: Authorization: Bearer <token>.
error-wrong-role = Token "{ $name }" is a { $has }; this needs the { $role } role.
error-unknown-token = Unknown or revoked token.
error-no-route = No such route (see /api).
error-no-method = This route does not answer this method (see /api).
error-too-slow = The request took longer than the server allows; nothing was changed.
error-body-paused = The request's body paused longer than the server waits; nothing was changed.
error-internal = An internal error; the server's log has the details.
error-store-missing = No store here ({ $path }). { $ui ->
    [web] Ask the administrator to create it.
   *[cli] Check --store; `domania init` or a first import creates one.
}
error-store-busy = The store is busy: { $holder }; gave up after { $seconds } s. { $ui ->
    [web] Try again in a moment.
   *[cli] Raise --wait to wait longer.
}
error-no-version = Layer { $layer } has no version { $version } (latest: { $latest }).
error-duplicate-key = Two rows of the same import have the key { $key } in layer { $layer }.
error-scope-not-allowed = Layer { $layer } is not imported by { $scope } (it is imported by: { $allowed }).
error-out-of-scope = Row { $key } is outside the declared scope { $scope }.
error-empty-import = Nothing to import into { $layer }: the file holds no row; an empty file never empties a layer. { $ui ->
    [web] Check that you chose the right file.
   *[cli] To empty part of it on purpose, pass --scope KIND=CODES with --force.
}
error-too-many-removed = Refused: this import would remove { $details } (limit { $limit } of a scope). { $ui ->
    [web] If that is what you want, tick "Accept that the new version removes many features" and send it again.
   *[cli] If that is what you want, pass --force (or raise --max-removed).
}
error-token-taken = A token named "{ $name }" exists already (revoke it or choose another name).
error-not-a-store = { $path } is not a Domania store.

## Validation reports of a file

report-feature = feature { $n }
report-line = line { $n }
severity-warning = warning
severity-repaired = repaired
severity-rejected = rejected
issue-bad_coordinates = the coordinates are not valid numbers
issue-empty_geometry = the geometry is empty
issue-invalid_geometry = the geometry is invalid (a self-intersecting outline or a malformed ring)
issue-missing_geometry = the feature has no geometry
issue-wrong_geometry_type = the geometry is not a polygon
issue-unclosed_ring = a ring was not closed; it was closed
issue-transform_failed = the geometry could not be reprojected to Lambert-93
issue-duplicate_idu = this IDU appears earlier in the file
issue-missing_idu = the feature has no IDU (parcel identifier)
issue-invalid_idu = the IDU is not a 14-character parcel identifier
issue-negative_contenance = the contenance is negative
issue-nul_character = a field holds a NUL character (U+0000), which cannot be stored: remove it from the file
issue-wrong_property_type = a property does not have the expected type (text or number)
issue-field_too_large = a field is too large to be stored
issue-missing_key = the feature has no key (code)
issue-invalid_qpv_code = the QPV code is not of the form QN0780001
issue-duplicate_key = this key appears earlier in the file
issue-overlapping_subsectors = this sub-sector overlaps another
issue-column_count = the line does not have the header's number of columns
issue-missing_right = the code droit is empty
issue-missing_owner = no SIREN and no owner name
issue-invalid_groupe = the groupe personne does not start with a digit 0-9
issue-on_two_sheets = the parcel is also on an earlier sheet: its pieces are joined
issue-area_gap = gap between the drawn area and the fiscal contenance (SUPF)
issue-record_count_mismatch = the number of shapes and of .dbf records differ
issue-other = issue "{ $code }"
removal-part = { $kind } { $code }: { $removed } of its { $current } rows ({ $percent })
report-more = … and { $count ->
    [one] 1 more issue
   *[other] { $count } more issues
}
error-bad-idu = "{ $text }" is not a parcel identifier: an IDU has 14 characters, commune (5), prefix (3), section (2) and number (4), e.g. 78005000AB0187.

## Layers

layer-parcels = parcels
layer-owners = owners
layer-qpv = qpv
layer-subsectors = subsectors
layer-conventions = conventions
layer-spaces = spaces

## Table columns (CSV for a spreadsheet) and their values

column-actor = actor
column-after = after
column-area_m2 = area_m2
column-counted_m2 = counted_m2
column-overlaps = overlaps
column-before = before
column-by = by
column-confidence = confidence
column-contenance_m2 = contenance_m2
column-decided_by = decided_by
column-done = done
column-duplicates = duplicates
column-email = email
column-forme = forme
column-group = group
column-groupe = groupe
column-id = id
column-idu = idu
column-intervention = intervention
column-kind = kind
column-managed_m2 = managed_m2
column-median_hours = median_hours
column-month = month
column-name = name
column-open = open
column-owner_actor = owner_actor
column-owner_file = owner_file
column-owner_name = owner_name
column-owners = owners
column-p90_hours = p90_hours
column-parcels = parcels
column-perimeter_area_m2 = perimeter_area_m2
column-perimeter_id = perimeter_id
column-phone = phone
column-qpv = qpv
column-qpv_id = qpv_id
column-qpv_name = qpv_name
column-requested_at = requested_at
column-requests = requests
column-service = service
column-service_code = service_code
column-service_id = service_id
column-service_name = service_name
column-share_of_cadastre = share_of_cadastre
column-share_of_area = share_of_area
column-gap_m2 = gap_m2
column-siren = siren
column-space = space
column-status = status
column-subsector = subsector
column-subsector_id = subsector_id
column-table = table
column-urgency = urgency
column-who = who
column-why = why
column-within_level = within_level
column-backlog = backlog
column-bailleur = bailleur
column-rule = rule
column-explanation = explanation
column-description = description
column-commune = commune
column-lat = lat
column-long = long
column-media_url = media_url
column-duplicate_of = duplicate_of
column-expected_at = expected_at
column-updated_at = updated_at
column-status_notes = status_notes
column-reporter = reporter
column-source = source
value-status-received = received
value-status-acknowledged = acknowledged
value-status-planned = planned
value-status-in_progress = in_progress
value-status-done = done
value-status-rejected = rejected
value-status-transferred = transferred
value-status-duplicate = duplicate
value-urgency-normal = normal
value-urgency-review = review
value-urgency-urgent = urgent
value-rule-default = default
value-rule-fixed = fixed
value-rule-convention = convention
value-rule-unassigned = unassigned
value-by-qpv = qpv
value-by-commune = commune
value-by-service = service
error-walk-header = { $file }: the header must name the longitude (lon or long), latitude (lat) and category columns.

## What the command line announces

report-summary = { $file }: { $read } read, { $accepted } accepted ({ $repaired } repaired), { $rejected } rejected, { $warnings } warnings
version-unchanged = { $layer }: unchanged, still version { $version } ({ $features } features of { $scope } identical to the store)
version-written = { $layer } v{ $version } ({ $kind }, { $scope }): { $features } features, +{ $added } added, -{ $removed } removed, ~{ $changed } changed ({ $reshaped } reshaped), { $rejected } rejected, { $repaired } repaired
warning-overlaps = warning: { $count } pairs of parcels overlap ({ $total } in all, largest { $a }/{ $b } { $largest }); each overlap is counted once
demo-land = Land by actor (Lambert-93 areas), store { $store }:
demo-actor = actor
demo-parcels = parcels
demo-area = area m²
demo-share = share
demo-management = Management ({ $rules }): { $subsectors } sub-sectors, { $conventions } needing a convention, { $spaces } spaces assigned per intervention kind
demo-delegated = delegated:
demo-conventions = needing a convention:
demo-details = (details: domania assign --rules { $rules }; domania shares)
demo-done = done in { $seconds } s
scope-layer = layer

## The map: its styles and the sub-sectors' decisions

style-managers = Who manages: { $kind }
style-owners = Who owns
style-decisions = How each sub-sector is managed
style-convention-needed = thick outline: a convention is needed
decision-label-delegated = Delegated to { $actor }
decision-label-domanialite = Managed by domaniality
decision-label-undecided = Undecided: part of the land has an unknown owner
actor-communaute_urbaine = Urban community (EPCI)
actor-commune = Commune
actor-bailleur_social = Social landlord
actor-etat = State
actor-departement = Département
actor-region = Région
actor-etablissement_public = Public body
actor-sem = Semi-public company (SEM)
actor-copropriete = Co-ownership
actor-other_legal_person = Other legal person
actor-private = Natural persons
actor-indivision = Joint ownership between actors
actor-unknown = Unclassified legal person
actor-owner_unknown = Owner unknown (no owner file)
search-parcel = Parcel { $idu } ({ $actor }) — { $commune }
search-subsector = Sub-sector
search-commune = Commune { $commune } — { $count ->
    [one] 1 parcel
   *[other] { $count } parcels
}
search-section = Section { $section } of { $commune } — { $count ->
    [one] 1 parcel
   *[other] { $count } parcels
}
search-owner-dgfip = { $name } (DGFiP identifier { $siren }) — { $count ->
    [one] 1 parcel
   *[other] { $count } parcels
}
search-owner-group = { $name } — { $owners } owners of that name — { $count ->
    [one] 1 parcel
   *[other] { $count } parcels
}
search-owner = { $name } — { $count ->
    [one] 1 parcel
   *[other] { $count } parcels
}
search-owner-siren = { $name } (SIREN { $siren }) — { $count ->
    [one] 1 parcel
   *[other] { $count } parcels
}
search-address = { $address }, { $commune } — { $source }
search-street = { $street }, { $commune } — { $count ->
    [one] 1 address
   *[other] { $count } addresses
} ({ $source })
address-source-ban = Base Adresse Nationale
address-source-ppm = DGFiP file of legal-person owners
error-open311-format = { $file }: this API answers in JSON or XML (a name ending in .json or .xml).
error-attribute-unknown = attribute[{ $code }] is not an attribute of { $service } (attributes: { $known }).
error-attribute-value = attribute[{ $code }] = "{ $value }": the value is true or false.
error-address-unplaced = The address "{ $address }" cannot be placed: no address with that number is known (Base Adresse Nationale, or the owner file's addresses); give lat and long, or an address with its number.
error-photo-too-large = The photo "{ $name }" is larger than the { $mb } MB taken; make it smaller or send another.
error-photo-type = The file "{ $name }" is not a JPEG, PNG, WebP or HEIC photo (its content was read, not its name); send a photo in one of these formats.
error-photo-unreadable = The photo "{ $name }" cannot be read ({ $reason }); send it again, or another.
error-no-photo = Request { $id } has no photo sent with it.
error-photo-no-thumbnail = The photo of request { $id } is a HEIC, of which Domania makes no thumbnail: open the photo itself.
error-photo-one = One photo (media) per request.

## The emails of service requests

mail-service-subject = [Request { $id }] { $category } — for { $service }
mail-service-body = Hello,

    A request is sent to you.

    Category: { $category }
    Reported on: { $at }
    Description: { $description }
    Photo: { $photo }
    Place: { $lat }, { $lon } (sub-sector { $subsector }, commune { $commune })
    Map: https://www.openstreetmap.org/?mlat={ $lat }&mlon={ $lon }#map=19/{ $lat }/{ $lon }
    Why you: { $why }

    The request and its steps: { $link }

    — Domania
mail-received-subject = [Request { $id }] Your request is received
mail-received-body = Hello,

    Your request "{ $category }" of { $at } is received. It is sent to { $service }, who manages this space.

    Status: { $status }
    { $note }

    You will be told of each of its steps. Follow it: { $link }

    — Domania
mail-change-subject = [Request { $id }] { $category }: { $status }
mail-change-body = Hello,

    Request { $id } "{ $category }" became "{ $status }" on { $at }.
    { $note }

    Service in charge: { $service }
    Place: { $lat }, { $lon } (commune { $commune })
    Follow it: { $link }

    — Domania
mail-alert-subject = [Request { $id }] Alert: { $category }, to be dealt with urgently
mail-alert-body = Hello,

    The DVQ uses its right of alert on request { $id } "{ $category }" ({ $at }): it is to be dealt with urgently.
    Why: { $note }

    Service in charge: { $service }
    Description: { $description }
    Photo: { $photo }
    Place: { $lat }, { $lon } (sub-sector { $subsector }, commune { $commune })
    Map: https://www.openstreetmap.org/?mlat={ $lat }&mlon={ $lon }#map=19/{ $lat }/{ $lon }
    The request and its steps: { $link }

    — Domania, neighbourhood management
error-alert-reason = The right of alert is given with a reason: say why (note).
update-alert = The DVQ's right of alert: to be dealt with urgently.
deliveries-replayed = { $count ->
    [one] 1 given-up message put back in the queue
   *[other] { $count } given-up messages put back in the queue
}
column-report_id = report_id
column-role = role
column-recipient = recipient
column-attempts = attempts
column-next_at = next_at
column-sent_at = sent_at
column-last_error = last_error
column-note = note
column-at = at
error-no-smtp = DOMANIA_SMTP_URL is not set: the emails stay queued (the webhooks are sent); e.g. smtp://localhost:25
code-rate_limited = Too many requests posted at once; try again in a moment.
error-rate-limited = Too many requests posted in a short time ({ $who }): at most { $rate } a minute; try again in { $seconds } s.
rule-category-direct = reports "{ $category }" go directly to { $service }, wherever they are (the category's rule)
value-rule-category = category
note-urgency-review = claimed urgent without any of the category's criteria: to be reviewed
note-duplicate = duplicate of request { $id } ({ $metres } m away, made { $at }), which covers it
import-partly-covered = Warning: the owner files loaded cover { $communes } only in part (a part of the département's file is missing): their parcels without an owner row are of unknown owner, not natural persons, until the missing part is imported (or all the parts together; the last part of the file with --last-part).
notice-duplicate = already reported: request { $id } covers it
notice-urgency-review = claimed urgent without an objective criterion: reviewed before it is prioritised
notice-urgent = urgent
