/* gridgov: build a catalogue layer — an empty L.geoJson filled by fetch(), or vector
 * tiles drawn by Leaflet.VectorGrid. cfg comes from layers/folium_elements.py
 * (FetchedLayer.config). Progress is recorded in window.gridgov: loaded[id] = feature
 * count (tiles loaded, for a tiled layer), errors = messages.
 * window.gridgovData (url → GeoJSON), when a standalone file (`gridgov map --out`) embeds
 * it, is used instead of the server: nothing is fetched, tiled layers are drawn from it. */
window.gridgov = window.gridgov || {};
window.gridgov.loaded = window.gridgov.loaded || {};
window.gridgov.errors = window.gridgov.errors || [];

/* How a layer looks: style by property, popup HTML (both languages, the switch hides one). */
function gridgovLook(cfg) {
    "use strict";
    function category(properties) {
        return cfg.by ? cfg.categories[(properties || {})[cfg.by]] : undefined;
    }
    function styleOf(properties) {
        var s = Object.assign({}, cfg.style);
        var c = category(properties);
        if (c) {
            if (cfg.filled) { s.fillColor = c.colour; } else { s.color = c.colour; }
            if (c.weight !== null) { s.weight = c.weight; }
        }
        return s;
    }
    function esc(v) {
        return String(v).replace(/[&<>"']/g, function (ch) {
            return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[ch];
        });
    }
    function both(zh, en) {
        return "<span class=\"gg-zh\">" + esc(zh) + "</span> <span class=\"gg-en\">" +
            esc(en) + "</span>";
    }
    function row(f, html) {
        return "<tr><th>" + both(f.zh, f.en) + "</th><td>" + html + "</td></tr>";
    }
    function popupHtml(properties) {
        var p = properties || {};
        var c = category(p);
        var rows = cfg.popup.map(function (f) {
            var v = p[f.property];
            if (v === null || v === undefined) { v = "—"; }
            else if (f.property === cfg.by && c) { return row(f, both(c.zh, c.en)); }
            return row(f, esc(v));
        });
        /* a link to the feature's own page (the overview's drill-down); a standalone file
         * has no other pages */
        var link = "";
        if (cfg.link && p.code !== undefined && window.gridgovData === undefined) {
            link = "<div class=\"gg-popup-link\"><a class=\"gg-down\" href=\"" +
                esc(cfg.link.replace("{code}", encodeURIComponent(p.code))) + "\">" +
                both(cfg.linkZh, cfg.linkEn) + " ›</a></div>";
        }
        return "<div class=\"gg-popup\"><h4>" + both(cfg.titleZh, cfg.titleEn) + "</h4><table>" +
            rows.join("") + "</table>" + link + "</div>";
    }
    return {styleOf: styleOf, esc: esc, popupHtml: popupHtml};
}

function gridgovLayer(map, cfg) {
    "use strict";
    var state = window.gridgov;
    state.map = map;
    var pane = map.createPane(cfg.pane);
    pane.style.zIndex = String(cfg.zIndex);
    var look = gridgovLook(cfg);
    var esc = look.esc;
    var offline = window.gridgovData !== undefined;
    function styleOf(feature) { return look.styleOf(feature.properties); }
    function popupHtml(feature) { return look.popupHtml(feature.properties); }
    /* hatching: one <pattern> per colour in a hidden <svg>; url(#…) works across the page */
    function hatchFill(colour) {
        var id = "gg-hatch-" + colour.replace(/[^0-9a-zA-Z]/g, "");
        if (!document.getElementById(id)) {
            var svg = document.getElementById("gg-hatches");
            if (!svg) {
                svg = L.SVG.create("svg");
                svg.setAttribute("id", "gg-hatches");
                svg.setAttribute("width", "0");
                svg.setAttribute("height", "0");
                svg.style.position = "absolute";
                svg.appendChild(L.SVG.create("defs"));
                document.body.appendChild(svg);
            }
            var p = L.SVG.create("pattern");
            p.setAttribute("id", id);
            p.setAttribute("width", "8");
            p.setAttribute("height", "8");
            p.setAttribute("patternUnits", "userSpaceOnUse");
            p.setAttribute("patternTransform", "rotate(45)");
            var bar = L.SVG.create("rect");
            bar.setAttribute("width", "3");
            bar.setAttribute("height", "8");
            bar.setAttribute("fill", colour);
            p.appendChild(bar);
            svg.firstChild.appendChild(p);
        }
        return "url(#" + id + ")";
    }
    var layer = L.geoJson(null, {
        pane: cfg.pane,
        /* a layer of many polygons is drawn on one canvas, not an SVG path per feature:
         * Leaflet's canvas renderer still gives each feature its click and tooltip */
        renderer: cfg.canvas ? L.canvas({pane: cfg.pane, padding: 0.1}) : undefined,
        className: cfg.className,
        style: styleOf,
        pointToLayer: function (feature, latlng) {
            if (cfg.icon) {
                return L.marker(latlng, {pane: cfg.pane, shadowPane: cfg.pane, icon: L.AwesomeMarkers.icon({
                    icon: cfg.icon, prefix: "fa", markerColor: cfg.markerColour,
                    className: "awesome-marker " + cfg.className
                })});
            }
            return L.circleMarker(latlng, Object.assign(styleOf(feature), {
                pane: cfg.pane, className: cfg.className, radius: cfg.radius
            }));
        },
        onEachFeature: function (feature, l) {
            if (cfg.hatch && cfg.filled) {
                l.on("add", function () {
                    if (l._path) { l._path.setAttribute("fill", hatchFill(styleOf(feature).fillColor)); }
                });
            }
            l.bindPopup(popupHtml(feature), {maxWidth: 360});
            var p = feature.properties;
            if (p && (p.name || p.code)) {  /* what the search box matches: name or code */
                p._search = [p.name, p.code].filter(function (v) { return v; }).join(" ");
            }
            if (cfg.label && feature.properties && feature.properties[cfg.label]) {
                l.bindTooltip(esc(feature.properties[cfg.label]), {
                    permanent: true, direction: "right", offset: [10, -18], className: "gg-label"
                });
            } else if (feature.properties && feature.properties.name) {
                l.bindTooltip(esc(feature.properties.name), {sticky: true});
            }
        }
    });
    if (cfg.minZoom > 0 || cfg.maxZoom < 22) {
        var sync = function () {
            var z = map.getZoom();
            pane.style.display = (z >= cfg.minZoom && z <= cfg.maxZoom) ? "" : "none";
        };
        map.on("zoomend", sync);
        sync();
    }
    var source = offline
        ? Promise.resolve().then(function () {
            if (!(cfg.url in window.gridgovData)) { throw new Error(cfg.url + ": not embedded"); }
            return window.gridgovData[cfg.url];
        })
        : fetch(cfg.url, {headers: {Accept: "application/geo+json"}}).then(function (r) {
            if (!r.ok) { throw new Error(cfg.url + ": HTTP " + r.status); }
            return r.json();
        });
    source
        .then(function (data) {
            layer.addData(data);
            state.loaded[cfg.id] = data.features.length;
        })
        .catch(function (err) {
            state.errors.push(cfg.id + ": " + err);
            console.error("gridgov layer " + cfg.id + " failed: " + err);
        });
    return layer;
}

/* Leaflet.VectorGrid 1.3.0 calls L.DomEvent.fakeStop on a click on its canvas tiles, and
 * Leaflet 1.8 removed it ("fakeStop is not a function"). Upstream replaced the call by a
 * stop (Leaflet.VectorGrid#288, not released): stopping the click's propagation keeps the
 * map from also seeing it (it would close the popup the click just opened). */
function gridgovPatchVectorGrid() {
    "use strict";
    if (typeof L.DomEvent.fakeStop !== "function") {
        L.DomEvent.fakeStop = L.DomEvent.stopPropagation;
    }
}

/* A layer served as vector tiles (cfg.url: /tiles/{id}/{z}/{x}/{y}.mvt), drawn on canvas
 * tiles; a click opens the feature's popup. In a standalone file, drawn from the
 * embedded GeoJSON (cfg.geojson) instead. */
function gridgovTileLayer(map, cfg) {
    "use strict";
    if (window.gridgovData !== undefined) {
        return gridgovLayer(map, Object.assign({}, cfg, {url: cfg.geojson}));
    }
    gridgovPatchVectorGrid();
    var state = window.gridgov;
    state.map = map;
    var pane = map.createPane(cfg.pane);
    pane.style.zIndex = String(cfg.zIndex);
    var look = gridgovLook(cfg);
    var styles = {};
    styles[cfg.id] = function (properties) { return look.styleOf(properties); };
    var layer = L.vectorGrid.protobuf(cfg.url, {
        pane: cfg.pane,
        rendererFactory: L.canvas.tile,
        vectorTileLayerStyles: styles,
        interactive: true,
        minZoom: cfg.minZoom,
        maxZoom: cfg.maxZoom,
        maxNativeZoom: 22
    });
    var tiles = 0;
    function zoomOut() {
        var z = Math.round(map.getZoom());
        return z < cfg.minZoom || z > cfg.maxZoom;
    }
    layer.on("tileload", function () { tiles += 1; });
    layer.on("load", function () { state.loaded[cfg.id] = tiles; });
    layer.on("add", function () { if (zoomOut()) { state.loaded[cfg.id] = 0; } });
    layer.on("tileerror", function (e) {
        var msg = cfg.id + ": tile " + JSON.stringify(e.coords) + " failed";
        state.errors.push(msg);
        console.error("gridgov layer " + msg);
    });
    layer.on("click", function (e) {
        L.popup({maxWidth: 360}).setLatLng(e.latlng)
            .setContent(look.popupHtml(e.layer.properties)).openOn(map);
    });
    if (!map.hasLayer(layer) && zoomOut()) { state.loaded[cfg.id] = 0; }
    return layer;
}

/* The language switch: body.gg-lang-zh (default) hides .gg-en, body.gg-lang-en hides .gg-zh. */
function gridgovLanguageSwitch(map) {
    "use strict";
    var body = document.body;
    body.classList.add("gg-lang-zh");
    var control = L.control({position: "topright"});
    control.onAdd = function () {
        var button = L.DomUtil.create("button", "gg-lang-switch");
        button.type = "button";
        button.textContent = "English";
        button.title = "切换语言 Switch language";
        L.DomEvent.disableClickPropagation(button);
        L.DomEvent.on(button, "click", function () {
            var english = body.classList.toggle("gg-lang-en");
            body.classList.toggle("gg-lang-zh", !english);
            button.textContent = english ? "中文" : "English";
        });
        return button;
    };
    control.addTo(map);
}
