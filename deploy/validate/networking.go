// Layer 2 for networking: Service type and ports, Ingress rules, paths and backends.

package main

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validateService(s *corev1.Service) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	switch s.Spec.Type {
	case "", corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName:
	default:
		errs = append(errs, field.NotSupported(p.Child("type"), s.Spec.Type, []string{"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}))
	}
	if s.Spec.Type != corev1.ServiceTypeExternalName && len(s.Spec.Ports) == 0 && s.Spec.ClusterIP != corev1.ClusterIPNone {
		errs = append(errs, field.Required(p.Child("ports"), ""))
	}
	errs = append(errs, metavalidation.ValidateLabels(s.Spec.Selector, p.Child("selector"))...)
	names := map[string]bool{}
	for i, port := range s.Spec.Ports {
		pp := p.Child("ports").Index(i)
		if len(s.Spec.Ports) > 1 && port.Name == "" {
			errs = append(errs, field.Required(pp.Child("name"), "when there is more than one port"))
		}
		if port.Name != "" {
			for _, msg := range validation.IsDNS1123Label(port.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
			}
			if names[port.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		for _, msg := range validation.IsValidPortNum(int(port.Port)) {
			errs = append(errs, field.Invalid(pp.Child("port"), port.Port, msg))
		}
		if port.TargetPort.Type == intstr.String {
			for _, msg := range validation.IsValidPortName(port.TargetPort.StrVal) {
				errs = append(errs, field.Invalid(pp.Child("targetPort"), port.TargetPort.StrVal, msg))
			}
		} else if port.TargetPort.IntValue() != 0 {
			for _, msg := range validation.IsValidPortNum(port.TargetPort.IntValue()) {
				errs = append(errs, field.Invalid(pp.Child("targetPort"), port.TargetPort.IntValue(), msg))
			}
		}
		if port.NodePort != 0 && s.Spec.Type != corev1.ServiceTypeNodePort && s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			errs = append(errs, field.Forbidden(pp.Child("nodePort"), "may only be used when `type` is 'NodePort' or 'LoadBalancer'"))
		}
	}
	return errs
}

func validateIngress(ing *networkingv1.Ingress) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	if ing.Spec.DefaultBackend == nil && len(ing.Spec.Rules) == 0 {
		errs = append(errs, field.Invalid(p, "", "either `defaultBackend` or `rules` must be specified"))
	}
	for i, r := range ing.Spec.Rules {
		rp := p.Child("rules").Index(i)
		if r.Host != "" {
			host := strings.TrimPrefix(r.Host, "*.")
			for _, msg := range validation.IsDNS1123Subdomain(host) {
				errs = append(errs, field.Invalid(rp.Child("host"), r.Host, msg))
			}
		}
		if r.HTTP == nil {
			continue
		}
		for j, path := range r.HTTP.Paths {
			pp := rp.Child("http", "paths").Index(j)
			if path.PathType == nil {
				errs = append(errs, field.Required(pp.Child("pathType"), "pathType must be specified"))
			} else {
				switch *path.PathType {
				case networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific:
				default:
					errs = append(errs, field.NotSupported(pp.Child("pathType"), *path.PathType, []string{"Exact", "Prefix", "ImplementationSpecific"}))
				}
			}
			if !strings.HasPrefix(path.Path, "/") {
				errs = append(errs, field.Invalid(pp.Child("path"), path.Path, "must be an absolute path"))
			}
			errs = append(errs, validateIngressBackend(path.Backend, pp.Child("backend"))...)
		}
	}
	return errs
}

func validateIngressBackend(b networkingv1.IngressBackend, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case b.Service != nil && b.Resource != nil:
		errs = append(errs, field.Invalid(p, "", "cannot set both service and resource backends"))
	case b.Service != nil:
		if b.Service.Name == "" {
			errs = append(errs, field.Required(p.Child("service", "name"), ""))
		}
		port := b.Service.Port
		if (port.Name == "") == (port.Number == 0) {
			errs = append(errs, field.Invalid(p.Child("service", "port"), "", "exactly one of name and number"))
		}
		if port.Number != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.Number)) {
				errs = append(errs, field.Invalid(p.Child("service", "port", "number"), port.Number, msg))
			}
		}
	case b.Resource == nil:
		errs = append(errs, field.Required(p, "one backend (service or resource) is required"))
	}
	return errs
}
