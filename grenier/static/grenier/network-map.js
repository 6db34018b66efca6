// The cooperation map on OpenStreetMap tiles, where the browser is online: Leaflet is loaded from its CDN (pinned,
// checked by its hash), the located actors drawn as dots and their links by level. Offline, or if anything fails,
// nothing changes: the graph and the list above and below show the same actors. Names are set as text, never as HTML.
(function () {
  "use strict";
  var LEAFLET = "https://unpkg.com/leaflet@1.9.3/dist/";
  var JS_HASH = "sha384-okbbMvvx/qfQkmiQKfd5VifbKZ/W8p1qIsWvE1ROPUfHWsDcC8/BnHohF7vPg2T6";
  var CSS_HASH = "sha384-o/2yZuJZWGJ4s/adjxVW71R+EO/LyCwdQfP5UWSgX/w87iiTXuvDZaejd3TsN7mf";
  var box = document.getElementById("tiles");
  var source = document.getElementById("network-places");
  if (!box || !source || !navigator.onLine) {
    return;
  }
  var places = JSON.parse(source.textContent);
  if (!places.actors.length) {
    return;
  }

  function load(tag, attributes, done) {
    var element = document.createElement(tag);
    Object.keys(attributes).forEach(function (name) { element.setAttribute(name, attributes[name]); });
    if (done) { element.addEventListener("load", done); }
    document.head.appendChild(element);
  }

  function text(tag, value, href) {
    var element = document.createElement(tag);
    element.textContent = value;
    if (href) { element.setAttribute("href", href); }
    return element;
  }

  function draw() {
    var L = window.L;
    if (!L) { return; }
    box.hidden = false;
    var map = L.map(box, { scrollWheelZoom: false });
    L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 19,
      attribution: "&copy; <a href=\"https://www.openstreetmap.org/copyright\">OpenStreetMap</a>"
    }).addTo(map);
    var where = {};
    var bounds = [];
    places.actors.forEach(function (actor) {
      where[actor.id] = [actor.lat, actor.lon];
      bounds.push(where[actor.id]);
    });
    places.links.forEach(function (link) {
      L.polyline([where[link.a], where[link.b]], {
        color: link.colour, weight: link.weight, dashArray: link.dash, className: "tile-link level-" + link.level
      }).bindTooltip(text("span", link.title)).addTo(map);
    });
    places.actors.forEach(function (actor) {
      var popup = document.createElement("div");
      popup.appendChild(text("a", actor.name, actor.url));
      popup.appendChild(text("div", actor.kind));
      L.circleMarker(where[actor.id], {
        radius: 7, color: "#ffffff", weight: 2, fillColor: actor.colour, fillOpacity: 1, className: "tile-actor"
      }).bindPopup(popup).addTo(map);
    });
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 14 });
    var note = document.getElementById("tiles-offline");
    if (note) { note.hidden = true; }
  }

  load("link", { rel: "stylesheet", href: LEAFLET + "leaflet.css", integrity: CSS_HASH, crossorigin: "anonymous" });
  load("script", { src: LEAFLET + "leaflet.js", integrity: JS_HASH, crossorigin: "anonymous" }, draw);
}());
