"""The catalogue of map layers: each layer defined once (query, style, legend, popup) and
rendered to Folium pages, OGC API – Features collections, vector tiles and file exports.

Import what you need from its module (``layers.catalogue``, ``layers.spec``,
``layers.maps``, ``layers.tiles``…): the package itself imports nothing, so reading a
layer's spec (as the exports and the command line do) does not load Folium.
"""
